# The python3 corpus trace's workload: dict/list/str churn, a repr/eval round
# trip and an aggregation on three threads.  Only builtin modules (_thread),
# so start-up imports do not swamp the trace; small, so it stays under 2 MB.
import _thread

def work(k, lock):
    rows = [{"id": i, "name": "row-%d" % i, "tags": ["t%d" % (j % 7) for j in range(i % 9)]} for i in range(20 + 10 * k)]
    back = eval(repr(rows))
    agg = {}
    for r in back:
        for t in r["tags"]:
            agg[t] = agg.get(t, 0) + len(r["name"])
    sorted(agg.items())
    lock.release()

locks = []
for k in range(3):
    lock = _thread.allocate_lock()
    lock.acquire()
    locks.append(lock)
    _thread.start_new_thread(work, (k, lock))
for lock in locks:
    lock.acquire()
