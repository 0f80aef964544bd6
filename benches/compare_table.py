# The medians of benches/compare.sh's log as a markdown table: old and new side by side.
import re,sys,collections
res=collections.defaultdict(lambda: collections.defaultdict(list))
name=None
unit={'ns':1,'µs':1e3,'ms':1e6,'s':1e9}
for line in open(sys.argv[1]):
    if "change" in line or "%" in line: continue
    m=re.match(r'^(old|new) (\S+)\s+time:\s+\[\S+ \S+ (\S+) (\S+)',line)
    if m:
        side,nm,v,u=m.groups(); res[nm][side].append(float(v)*unit[u]); continue
    m=re.match(r'^(old|new) (\S+)\s*$',line)
    if m: name=m.group(2); continue
    m=re.match(r'^(old|new)\s+time:\s+\[\S+ \S+ (\S+) (\S+)',line)
    if m and name:
        side,v,u=m.groups(); res[name][side].append(float(v)*unit[u])
def fmt(ns):
    return f"{ns/1e6:.3f} ms" if ns>1e6 else (f"{ns/1e3:.2f} µs" if ns>1e3 else f"{ns:.1f} ns")
print("| bench | old medians | new medians | new/old (median of medians) |")
print("|---|---|---|---:|")
for nm,d in res.items():
    o=sorted(d['old']); n=sorted(d['new'])
    if not o or not n: continue
    mo=o[len(o)//2]; mn=n[len(n)//2]
    print(f"| {nm} | {', '.join(fmt(x) for x in d['old'])} | {', '.join(fmt(x) for x in d['new'])} | {mn/mo:.3f} |")
