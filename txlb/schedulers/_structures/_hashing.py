"""
Hashing keys to well-mixed integers, and primes for table sizes.
"""

import hashlib


def hashKey(key):
    """
    A well-mixed 64-bit hash of a string.
    """
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def nextPrime(n):
    """
    The smallest prime >= C{n}.
    """
    candidate = max(2, n)
    while True:
        if candidate < 4 or (candidate % 2 and all(candidate % d for d in range(3, int(candidate**0.5) + 1, 2))):
            return candidate
        candidate += 1
