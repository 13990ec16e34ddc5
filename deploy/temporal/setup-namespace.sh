#!/bin/sh
# One-shot, in temporalio/admin-tools: once the Temporal frontend answers, make sure the namespace
# and the OMS's custom search attributes (workflows/contracts.py: SEARCH_ATTRIBUTES) exist.
# Safe to re-run: it only creates what is missing.
set -eu
: "${TEMPORAL_ADDRESS:=temporal:7233}" "${NAMESPACE:=default}"
: "${SEARCH_ATTRIBUTES:=OrderStatus=Keyword CustomerId=Keyword OnHold=Bool OrderTotal=Int Skus=KeywordList RefundStatus=Keyword OrderId=Keyword ReturnStatus=Keyword Late=Bool}"

retry() {  # retry N COMMAND...: up to N tries, 2 s apart
  tries=$1
  shift
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "gave up waiting for: $*" >&2; return 1; }
    sleep 2
  done
}

retry 90 temporal operator cluster health --address "$TEMPORAL_ADDRESS"
if ! temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  temporal operator namespace create -n "$NAMESPACE" --retention 72h --address "$TEMPORAL_ADDRESS"
fi
# A new namespace takes a few seconds to reach every service.
retry 30 temporal operator search-attribute list -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS"

existing=$(temporal operator search-attribute list -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS")
for attribute in $SEARCH_ATTRIBUTES; do
  name=${attribute%%=*}
  if echo "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
      --name "$name" --type "${attribute#*=}"
  fi
done
echo "namespace $NAMESPACE and its search attributes are ready"
