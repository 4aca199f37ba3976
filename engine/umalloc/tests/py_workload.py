# A non-trivial Python workload for the LD_PRELOAD test: a dict of 200k
# entries, a JSON round trip, sorting, and a checksum computed two ways.
import json, hashlib
d = {"k%06d" % i: [i, i * i % 9973, "v" * (i % 17)] for i in range(200000)}
s = json.dumps(d, sort_keys=True)
e = json.loads(s)
assert e == d
keys = sorted(e, key=lambda k: (e[k][1], k))
h = hashlib.sha256()
for k in keys[:50000]:
    h.update(k.encode())
total = sum(v[0] * v[1] for v in e.values()) % 1000000007
expect = sum(i * (i * i % 9973) for i in range(200000)) % 1000000007
print("ok" if total == expect and len(keys) == 200000 else "BAD", total, h.hexdigest()[:16])
