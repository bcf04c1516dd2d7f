#!/usr/bin/env python3
"""spark/check_keys.py WAREHOUSE SALT: the customer_key of every int_customers row is
sha256(salt + U+001F + the smallest node of its component), the smallest by code point as Python
(and Spark, by UTF-8 bytes) compares strings. Proves that the Spark side can take a component's
label = its smallest node id (ids given in that order) as the key's input."""
import hashlib
import sqlite3
import sys

db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
salt = sys.argv[2]
smallest = {}
for node, grp in db.execute("SELECT node, grp FROM int_nodes"):
    if grp not in smallest or node < smallest[grp]:
        smallest[grp] = node
bad = n = 0
for cid, key in db.execute("SELECT customer_id, customer_key FROM int_customers"):
    n += 1
    if hashlib.sha256((salt + "\x1f" + smallest[cid]).encode()).hexdigest()[:16] != key:
        bad += 1
print("customers %d, keys equal %d, different %d" % (n, n - bad, bad))
sys.exit(1 if bad or n == 0 else 0)
