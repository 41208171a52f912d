#!/bin/sh
# curl_cmd_bench: the same benchmark, the way appliance shell scripts do it:
# the `curl` command run once per request (same command line as the others).
host= port= ca= mode= n= size= sn= user=admin pass=s3cret-Passw0rd key=bench-internal-key chunked= resume=
while [ $# -gt 0 ]; do
    case $1 in
    --host) host=$2; shift ;; --port) port=$2; shift ;; --ca) ca=$2; shift ;; --mode) mode=$2; shift ;;
    --requests) n=$2; shift ;; --size) size=$2; shift ;; --servername) sn=$2; shift ;;
    --user) user=$2; shift ;; --password) pass=$2; shift ;; --api-key) key=$2; shift ;;
    --chunked) chunked=/chunked ;; --no-reuse) ;; --no-resume) resume=1 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$host" ] && [ -n "$port" ] && [ -n "$ca" ] && [ -n "$mode" ] && [ -n "$n" ] && [ -n "$size" ] || { echo "bench: missing argument" >&2; exit 2; }
[ -n "$sn" ] || sn=$host
base="https://$sn:$port"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
connects=0
if [ "$mode" = bearer ]; then
    curl -sS --cacert "$ca" --resolve "$sn:$port:$host" -H 'Content-Type: application/json' \
        --data "{\"username\":\"$user\",\"password\":\"$pass\",\"rememberMe\":false}" "$base/api/authenticate" >"$tmp" || exit 1
    auth="Authorization: Bearer $(sed 's/.*"id_token":"\([^"]*\)".*/\1/' "$tmp")"
    connects=1
else
    auth="Utm-Internal-Key: $key"
fi
url="$base$chunked/api/elasticsearch/search?page=0&size=$size&top=100&indexPattern=alert-*&sort=@timestamp,desc"
ok=0 bytes=0 i=0
t0=$(date +%s.%N)
while [ $i -lt "$n" ]; do
    out=$(curl -sS --cacert "$ca" --resolve "$sn:$port:$host" -H 'Content-Type: application/json' -H "$auth" \
        --data '[{"field":"status","operator":"IS","value":2}]' -o "$tmp" -w '%{http_code} %{size_download} %{num_connects}' "$url")
    set -- $out
    connects=$((connects + ${3:-0}))
    bytes=$((bytes + ${2:-0}))
    if [ "$1" = 200 ] && [ "$(head -c1 "$tmp")" = "[" ] && [ "$(tail -c1 "$tmp")" = "]" ]; then ok=$((ok + 1)); fi
    i=$((i + 1))
done
t1=$(date +%s.%N)
echo "requests=$n ok=$ok connects=$connects bytes=$bytes seconds=$(echo "$t1 - $t0" | bc -l | sed 's/^\./0./')"
[ "$ok" -eq "$n" ]
