#!/bin/bash
# Times ctscan verify vs zcat+sha256sum on the same generated mirror.
set -e
B=/tmp/verify-bench
T=/work/cache/target-verify/release
rm -rf $B && mkdir -p $B
$T/examples/gen-digest-mirror $B/mirror
find $B/mirror/AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | wc -l
find $B/mirror/AWSLogs -path '*/CloudTrail-Digest/*' -name '*.json.gz' | wc -l
du -sh $B/mirror/AWSLogs
sync
# warm the page cache once for both
cat $(find $B/mirror -type f) > /dev/null
echo "== ctscan verify (signed, with keys) =="
/usr/bin/time -f "%e s elapsed, %U s user, %S s sys, %M KB maxrss" $T/ctscan verify $B/mirror --bucket bench-trail-bucket --public-keys $B/public-keys.json -q; echo "exit $?"
/usr/bin/time -f "%e s elapsed, %U s user, %S s sys, %M KB maxrss" $T/ctscan verify $B/mirror --bucket bench-trail-bucket --public-keys $B/public-keys.json --out $B/out > $B/verify.txt; echo "exit $?"
echo "== zcat each log + sha256sum (sequential, 1 core) =="
find $B/mirror/AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort > $B/logs.txt
/usr/bin/time -f "%e s elapsed, %U s user, %S s sys" bash -c "while read f; do zcat \"\$f\" | sha256sum; done < $B/logs.txt > $B/sums.txt"
echo "== decompress to a dir first, then time sha256sum alone (2 procs) =="
mkdir -p $B/plain
while read f; do zcat "$f" > $B/plain/$(basename "$f" .gz); done < $B/logs.txt
du -sh $B/plain
cat $B/plain/* > /dev/null
/usr/bin/time -f "%e s elapsed, %U s user, %S s sys" bash -c "ls $B/plain | sed 's|^|$B/plain/|' | xargs -P2 -n 500 sha256sum > $B/sums2.txt"
wc -l $B/sums2.txt
