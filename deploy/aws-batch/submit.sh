#!/usr/bin/env bash
# Submits a sweep as an AWS Batch array job of N children (each gets
# AWS_BATCH_JOB_ARRAY_INDEX, read by `--shard auto/N`), then a merge job that
# starts when every child has succeeded.
#
#   deploy/aws-batch/submit.sh QUEUE [N]
#
# Register the definition first:
#   aws batch register-job-definition --cli-input-json file://deploy/aws-batch/job-definition.json
set -euo pipefail
queue=${1:?usage: submit.sh QUEUE [N]}
shards=${2:-8}
results=/results/sweep-2026-11

sweep=$(aws batch submit-job \
  --job-name ctscan-sweep \
  --job-queue "$queue" \
  --job-definition ctscan-sweep \
  --array-properties "size=$shards" \
  --parameters "shards=$shards,results=$results" \
  --query jobId --output text)
echo "sweep: $sweep ($shards shards)"

# Depending on the array job itself waits for all of its children.
merge=$(aws batch submit-job \
  --job-name ctscan-merge \
  --job-queue "$queue" \
  --job-definition ctscan-sweep \
  --depends-on "jobId=$sweep" \
  --container-overrides "{\"command\": [\"sh\", \"-c\", \"exec ctscan merge $results/shard-* --out $results/report --quiet\"]}" \
  --query jobId --output text)
echo "merge: $merge"
