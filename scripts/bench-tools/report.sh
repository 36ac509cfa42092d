# Writes BENCHMARKS.md from the results of a scripts/bench run (sourced by scripts/bench; uses its variables and
# its helpers res, val and calib).

# Thousands separators: 35000 -> 35,000.
num() { awk -v n="$1" 'BEGIN {s = sprintf("%.0f", n); o = ""; while (length(s) > 3) {o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3)} print s o}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b > 0) ? 100 * a / b : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}'; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f s", ms / 1000}'; }

# verdict_ge ACTUAL TARGET: "met", or by how much a floor is missed.
verdict_ge() {
  awk -v a="$1" -v t="$2" 'BEGIN {if (a >= t) print "met"; else printf "**missed** by %.0f %% (reaches %.1f %% of it)\n", 100 * (t - a) / t, 100 * a / t}'
}
# verdict_le ACTUAL LIMIT: "met", or by how much a ceiling is exceeded.
verdict_le() {
  awk -v a="$1" -v t="$2" 'BEGIN {if (a <= t) print "met"; else printf "**missed**: %.1f× the limit\n", a / t}'
}

rate_cell() { echo "$(num "$(res "$1" rps)") req/s, p50 $(res "$1" p50) ms, p99 $(res "$1" p99) ms"; }

# Server CPU (JVM + PostgreSQL) per successful request, in ms.
cpu_per_req() {
  awk -F= -v hz="$CLK_TCK" -v who="$2" '{v[$1] = $2} END {ok = v["requests"] - v["non2xx"]; t = v[who "_ticks"] + v["pg_ticks"]; printf "%.2f", (ok > 0) ? 1000 * t / hz / ok : 0}' "$WORK/$1.result"
}

# The JVM's and PostgreSQL's parts of the CPU per successful request: "JVM 1,200 + PostgreSQL 450".
cpu_split() {
  awk -F= -v hz="$CLK_TCK" -v who="$2" '{v[$1] = $2} END {ok = v["requests"] - v["non2xx"]; if (ok <= 0) {print "—"; exit}
    printf "JVM %.0f + PostgreSQL %.0f", 1e6 * v[who "_ticks"] / hz / ok, 1e6 * v["pg_ticks"] / hz / ok}' "$WORK/$1.result"
}

hot_areas() {
  [ -f "$WORK/$1.hot" ] || { echo "(not profiled)"; return; }
  awk -F'\t' '$1 == "area" {printf "%s%s %s", sep, $3, $2; sep = ", "} END {print ""}' "$WORK/$1.hot" | head -c 600
}
hot_methods() {
  [ -f "$WORK/$1.hot" ] || { echo "(not profiled)"; return; }
  awk -F'\t' '$1 == "self" && n < 6 {printf "%s`%s` %s", sep, $3, $2; sep = ", "; n++} END {print ""}' "$WORK/$1.hot"
}
# Portcullis's own methods by the share of samples they are on the stack of (RequestLog.handle, first in the
# router's chain, is on nearly all of them and is left out).
hot_portcullis() {
  [ -f "$WORK/$1.hot" ] || { echo "(not profiled)"; return; }
  awk -F'\t' '$1 == "portcullis" && $3 !~ /RequestLog.handle$/ && n < 4 {m = $3; sub(/^io\.portcullis\./, "", m); printf "%s`%s` %s", sep, m, $2; sep = ", "; n++} END {print ""}' "$WORK/$1.hot"
}
# The thread with the most samples and its share ("vert.x-eventloop-thread-2 61.0%").
hot_thread() {
  [ -f "$WORK/$1.hot" ] || { echo "—"; return; }
  awk -F'\t' '$1 == "thread" {print $3 " " $2; exit}' "$WORK/$1.hot"
}
hot_samples() { [ -f "$WORK/$1.hot" ] && awk '$1 == "samples" {print $2}' "$WORK/$1.hot" || echo 0; }
area_share() {
  [ -f "$WORK/$1.hot" ] || { echo 0; return; }
  awk -F'\t' -v a="$2" '$1 == "area" && $3 == a {sub("%", "", $2); print $2; found = 1} END {if (!found) print 0}' "$WORK/$1.hot"
}

# The rate the servers' CPU per request allows on the cores wrk leaves them: (cores − wrk) ÷ CPU per request.
cpu_bound() {
  awk -v c="$(cpu_per_req "$1" "$2")" -v w="$(res "$1" wrk)" -v n="$(nproc)" 'BEGIN {printf "%.0f", (c > 0) ? (n * 100 - w) * 10 / c : 0}'
}

load_line() {
  local label=$1 title=$2 who=${3:-a}
  [ -f "$WORK/$label.result" ] || return 0
  echo "| $title | $(num "$(res "$label" rps)") | $(num "$(val "$label" non2xx)") | $(res "$label" "$who") % | $(res "$label" pg) % | $(res "$label" wrk) % | $(awk -v c="$(cpu_per_req "$label" "$who")" 'BEGIN {printf "%.0f", c * 1000}') µs ($(cpu_split "$label" "$who")) | $(num "$(cpu_bound "$label" "$who")") |"
}

# perf_value NAME COUNTER: a JVM performance counter of a start (jcmd PerfCounter.print), or empty.
perf_value() { awk -F= -v k="$2" '$1 == k {print $2}' "$WORK/$1.perf" 2>/dev/null; }
phase() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {printf "%.2f s", $2 / 1000; f = 1} END {if (!f) print "—"}'; }
class_loading() {
  local n t f
  n=$(perf_value "$1" java.cls.loadedClasses); t=$(perf_value "$1" sun.cls.time); f=$(perf_value "$1" sun.os.hrt.frequency)
  if [ -n "$n" ] && [ -n "$t" ] && [ -n "$f" ]; then
    awk -v n="$n" -v t="$t" -v f="$f" 'BEGIN {printf "%d classes, %.2f s", n, t / f}'
  else
    echo "—"
  fi
}

write_report() {
  local commit dirty g_rps c_rps g_p99 flood_p99 ratio_ceiling es_us rs_us hs_us sign_us rs_sign_us
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$ROOT" status --porcelain -- src pom.xml conf 2>/dev/null | head -1)
  g_rps=$(res guarded rps); c_rps=$(res ceiling rps); g_p99=$(res guarded p99); flood_p99=$(res flood-guarded p99)
  ratio_ceiling=$(pct "$g_rps" "$c_rps")
  es_us=$(calib es256_verify_us); rs_us=$(calib rs256_verify_us); hs_us=$(calib hs256_verify_us); sign_us=$(calib es256_sign_us)
  rs_sign_us=$(calib rs256_sign_us)
  local load1 busy
  load1=$(echo "$LOAD_BEFORE $LOAD_AFTER" | grep -o 'load average: [0-9.]*' | awk '{if ($3 > m) m = $3} END {print m + 0}')
  busy=$(awk -v l="$load1" 'BEGIN {print (l > 1.0) ? 1 : 0}')

  cat <<MD
# Portcullis benchmarks

Written by \`scripts/bench\` on $(date -u '+%Y-%m-%d %H:%M UTC') from commit \`$commit\`${dirty:+ (with uncommitted changes)}.
Running \`scripts/bench\` again rewrites this file with that machine's numbers (see [How to reproduce](#how-to-reproduce)).

Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM,
$(java -version 2>&1 | head -1), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}'). The load generator runs on the same cores as
the servers and PostgreSQL, as the project's benchmark set-up prescribes (loopback only).

**Machine load during this run** (\`uptime\` before and after):
- before: \`$(echo "$LOAD_BEFORE" | sed 's/^ *//')\`
- after: \`$(echo "$LOAD_AFTER" | sed 's/^ *//')\`
MD
  if [ "$busy" = 1 ]; then
    cat <<MD

> **This run shared the machine with other work** (load average up to $load1 on $(nproc) cores): the servers got
> only part of the CPU, so every rate below is lower and every latency higher than on a quiet machine. The
> *relations* (what share of the CPU each component takes, the guarded route against the ceiling, the hash bound)
> hold better than the absolute numbers. Run \`scripts/bench\` on a quiet machine for numbers to quote.
MD
  fi

  cat <<MD

## Results

Rates count successful (2xx) answers only; latencies are wrk's per-request latencies over the whole measured
load ($DURATION s, after an adaptive warm-up). Targets are the project's; Keycloak 26 numbers are the reference,
measured by others on the same kind of 2-core machine (not re-measured here).

| What | Portcullis (this run) | Target | Keycloak 26 (reference) | Verdict |
|---|---|---|---|---|
| Guarded \`GET /auth/v1/user\` (Bearer, $CONNS connections) | $(rate_cell guarded) | ≥ 35,000 req/s | 7,000 req/s, p99 ~200 ms | rate $(verdict_ge "$g_rps" 35000); $(ratio "$g_rps" 7000)× Keycloak |
| ... its p99 latency | $g_p99 ms | ≤ 20 ms | ~200 ms | $(verdict_le "$g_p99" 20) |
| No-auth ceiling \`GET /auth/v1/settings\` (same server, same middleware) | $(rate_cell ceiling) | — | — | — |
| Guarded ÷ ceiling | $ratio_ceiling % | ≥ 70 % | — | $(verdict_ge "$ratio_ceiling" 70) |
| \`GET /health\` (no middleware beyond the router's) | $(rate_cell health) | — | — | — |
| Refresh grant, real rotation ($CONNS connections) | $(rate_cell refresh) | ≥ 2,700/s | ~550/s | $(verdict_ge "$(res refresh rps)" 2700); $(ratio "$(res refresh rps)" 550)× Keycloak |
| Introspection, access tokens ($CONNS connections) | $(rate_cell introspect) | ≥ 19,000/s | ~3,900/s | $(verdict_ge "$(res introspect rps)" 19000); $(ratio "$(res introspect rps)" 3900)× Keycloak |
| Password grant, near-free argon2id (8 KiB, 1 iteration; $SIGNIN_CONNS connections) | $(rate_cell signin-cheap) | ≥ 3,000/s | ~620/s | $(verdict_ge "$(res signin-cheap rps)" 3000); $(ratio "$(res signin-cheap rps)" 620)× Keycloak |
| Password grant, default argon2id (19 MiB, 2 iterations; $HASH_CONNS connections, $(( 2 * DURATION )) s) | $(res signin-default rps)/s, p50 $(res signin-default p50) ms = $(pct "$(res signin-default rps)" "$HASH_BOUND") % of the bound $HASH_BOUND/s (2 cores ÷ one hash of $HASH_MS ms) | ≥ 90 % of the bound | — | $(verdict_ge "$(pct "$(res signin-default rps)" "$HASH_BOUND")" 90) |
| Guarded p99 during that sign-in flood (both loads at once) | $flood_p99 ms = $(ratio "$flood_p99" "$g_p99")× the idle p99 ($g_p99 ms); sign-ins meanwhile $(res flood-signin rps)/s | ≤ 2× idle p99 | — | $(verdict_le "$(ratio "$flood_p99" "$g_p99")" 2) |
| Start to first \`/ready\` 200, external PostgreSQL (median of $STARTS: $EXTERNAL_ALL ms) | $(secs "$EXTERNAL_MS") | ≤ 1.5 s | restart ~7 s | $(verdict_le "$EXTERNAL_MS" 1500) |
$([ -z "$CDS_MS" ] || echo "| ... the same with an AppCDS archive (\`-XX:SharedArchiveFile\`; a deployment option, not the default) | $(secs "$CDS_MS") | ≤ 1.5 s | — | $(verdict_le "$CDS_MS" 1500) |")
| Restart to first \`/ready\` 200, embedded PostgreSQL (median of $STARTS: $RESTART_ALL ms) | $(secs "$RESTART_MS") | — | ~7 s | — |
| First start on an empty data directory (initdb, migrations, first signing key) | $(secs "$FIRST_START_MS") | — | — | — |
| Idle resident memory (VmRSS 5 s after start; server B: $(mib "$B_IDLE_KIB") MiB) | $(mib "$A_IDLE_KIB") MiB | ≤ 150 MiB | ~630 MiB | $(verdict_le "$(mib "$A_IDLE_KIB")" 150) |
| Loaded resident memory (highest VmRSS after a load; peak VmHWM) | $(mib "$A_LOADED_KIB") MiB; peak $(mib "$A_HWM_KIB") MiB (B after its sign-ins: $(mib "$B_LOADED_KIB") MiB) | — | — | — |
MD

  cat <<MD

### Start-up in phases

From the servers' logs (their last timed start): launch → database opened (JVM start, configuration, logging; for
the embedded database also starting PostgreSQL) → the first log line of an event loop (Liquibase's check of the
migrations over JDBC, creating Vert.x, loading the signing keys) → "listening" (deploying the verticles) → first
\`/ready\` 200. Class loading: the JVM's counters (\`java.cls.loadedClasses\`, \`sun.cls.time\`) read right after /ready.

| Start | Total | Database opened | Migrations check, Vert.x, keys | Verticles deployed | First /ready 200 | Class loading |
|---|---|---|---|---|---|---|
| A, restart on embedded PostgreSQL | $(secs "$RESTART_MS") (median) | $(phase "$A_PHASES" db) | $(phase "$A_PHASES" prepare) | $(phase "$A_PHASES" deploy) | $(phase "$A_PHASES" ready) | $(class_loading a-start) |
| B, external PostgreSQL | $(secs "$EXTERNAL_MS") (median) | $(phase "$B_PHASES" db) | $(phase "$B_PHASES" prepare) | $(phase "$B_PHASES" deploy) | $(phase "$B_PHASES" ready) | $(class_loading b-start) |
$([ -z "$CDS_MS" ] || echo "| B with an AppCDS archive (\`-XX:SharedArchiveFile\`, made by one run with \`-XX:ArchiveClassesAtExit\`; $CDS_ALL ms) | $(secs "$CDS_MS") (median) | $(phase "$CDS_PHASES" db) | $(phase "$CDS_PHASES" prepare) | $(phase "$CDS_PHASES" deploy) | $(phase "$CDS_PHASES" ready) | (archived) |")

Java heap 5 s after start (\`jcmd GC.heap_info\`, committed and used): A \`${A_HEAP:-?}\`; B \`${B_HEAP:-?}\`.

## Where the two cores go

CPU of each process during the measured load, in % of one core (the machine has $(nproc): $(( $(nproc) * 100 )) % is all of it),
the servers' CPU per successful request (JVM + PostgreSQL, each part in parentheses), and the rate that CPU cost allows on the cores wrk leaves
free ("CPU-bound rate"). A measured rate near its CPU-bound rate means the cores are the limit; one far below it
means requests wait on something else (a single-threaded stage, the database, locks), or that other work on the
machine took the CPU.

| Load | ok req/s | non-2xx | Portcullis JVM | PostgreSQL | wrk | server CPU per request (JVM + PostgreSQL) | CPU-bound rate |
|---|---|---|---|---|---|---|---|
$(load_line guarded "Guarded GET /auth/v1/user")
$(load_line ceiling "Ceiling GET /auth/v1/settings")
$(load_line health "GET /health")
$(load_line refresh "Refresh grant")
$(load_line introspect "Introspection")
$(load_line signin-cheap "Password grant, near-free hash (server B)" b)
$(load_line signin-default "Password grant, default argon2id")
$(load_line flood-guarded "Guarded route during the flood (CPU: both loads)")

One JWT signature operation on this JVM, one thread, CPU time (\`scripts/bench-tools/Calibrate.java\`): ES256 verify
**$es_us µs**, ES256 sign **$sign_us µs**, RS256 verify $rs_us µs, RS256 sign $rs_sign_us µs, HS256 (HMAC) $hs_us µs.

## Hot spots (JFR)

Each server ran one continuous JFR recording (\`jcmd <pid> JFR.start settings=default\`: a stack sample of each
running Java thread every 20 ms), started before its first load; \`scripts/bench-tools/JfrTop.java\` reads each
measured load's time window, charges every \`jdk.ExecutionSample\` to the component that spends it (JDK collections,
strings and regular expressions to their caller, JDK crypto to crypto) and lists the methods most often on top of
the stack. PostgreSQL's own CPU is not in these samples (see the table above).

| Load | Samples | Where the JVM's time goes | Hottest methods (self) | Portcullis methods on the stack | Busiest thread |
|---|---|---|---|---|---|
MD
  local label title
  for label in startup guarded ceiling refresh introspect signin-cheap signin-default flood-guarded; do
    [ -f "$WORK/$label.hot" ] || continue
    case $label in
      startup) title="Start of B (external PostgreSQL) up to the first /ready 200" ;;
      guarded) title="Guarded GET /auth/v1/user" ;;
      ceiling) title="Ceiling GET /auth/v1/settings" ;;
      refresh) title="Refresh grant" ;;
      introspect) title="Introspection" ;;
      signin-cheap) title="Password grant, near-free hash (server B)" ;;
      signin-default) title="Password grant, default argon2id" ;;
      flood-guarded) title="Guarded route + sign-in flood" ;;
    esac
    echo "| $title | $(hot_samples "$label") | $(hot_areas "$label") | $(hot_methods "$label") | $(hot_portcullis "$label") | $(hot_thread "$label") |"
  done

  local sign_bound
  sign_bound=$(awk -v us="$sign_us" 'BEGIN {printf "%.0f", (us > 0) ? 1e6 / us : 0}')
  us() { awk -v c="$(cpu_per_req "$1" "${2:-a}")" 'BEGIN {printf "%.0f", c * 1000}'; }
  # Whether a load used the CPU it could: measured rate against its CPU-bound rate.
  bound_text() {
    awk -v r="$(res "$1" rps)" -v b="$(cpu_bound "$1" "$2")" -v busy="$busy" 'BEGIN {
      if (b > 0 && r >= 0.8 * b) print "the cores are the bound (measured " int(100 * r / b) " % of it)";
      else if (busy) print "measured " int(100 * r / (b > 0 ? b : 1)) " % of it, the rest of the CPU went to other work on the machine or the requests waited";
      else print "measured " int(100 * r / (b > 0 ? b : 1)) " % of it: requests wait on something else than CPU";
    }'
  }
  share() { area_share "$1" "$2"; }

  cat <<MD

## What bounds the missed targets

The figures in this section are this run's; the per-request work described is the code's at commit \`$commit\`.
Every load shares the $(nproc) cores with wrk (the load generator) and PostgreSQL; the table "Where the two cores go"
gives each one's share and the rate the servers' CPU cost allows.

**Guarded route (\`GET /auth/v1/user\`).** A request runs the router's middleware (request id and access log,
security headers, CORS, client IP, timeout, Micrometer's HTTP metrics by route), then \`JWTAuthHandler\`: a token that
this event loop has verified before costs a map lookup and a new user over the remembered read-only claims
(\`TokenVerifier\` remembers the last 1,024 per event loop); only its first use on each event loop costs an ES256 check
($es_us µs). Then the session-liveness cache (\`sessions.cache_ttl_ms\`, 5 s) says whether user and session live (one
event-bus round trip and one \`SELECT\` per session in use every 3.75 s, in the background: once its session is
cached, a request never waits for it), and the answer is the user's JSON as encoded once for that cache entry. Server CPU per request: $(us guarded) µs against $(us ceiling) µs for the ceiling (which shares the
middleware); JFR: JSON $(share guarded "JSON (Jackson, Vert.x JSON)") %, HTTP and sockets $(share guarded "HTTP and sockets (Netty, Vert.x HTTP)") %, metrics $(share guarded "metrics (Micrometer)") %, EC arithmetic $(share guarded "ECDSA / EC arithmetic (JDK)") %.
The CPU it costs allows $(num "$(cpu_bound guarded a)")/s on the cores wrk ($(res guarded wrk) % of a core) leaves: $(bound_text guarded a).
Reaching 35,000/s on this machine needs the server to spend at most $(awk -v w="$(res guarded wrk)" -v n="$(nproc)" 'BEGIN {printf "%.0f", (n * 100 - w) * 10000 / 35000}') µs of CPU per request beside this
load generator; what is left is mostly the HTTP stack and middleware that the ceiling pays too, and Micrometer's
per-request meter lookups and histograms.
The p99 follows from the rate: $CONNS connections queue on a saturated server, so p99 ≈ the queue's length ÷ the rate.

**Refresh grant.** A refresh token names its session and counter (under an HMAC), so the successor's stored hash is
known before the database is asked, and a real rotation is one statement, one round trip and one commit (an fsync):
lock the session row, revoke the presented token if it is still the active one and the session within its limits,
insert the successor, advance the session, write the audit row and read the user. Only a token that statement does
not rotate (a replay, reuse, expiry, an unknown token) goes through the locked transaction that decides it. Then a
newly signed ES256 access token ($sign_us µs of CPU to sign), in \`TokenVerticle\`, deployed on every event loop
(the HTTP instances' bus requests are spread over them round-robin), so both cores sign: at most
2 × 1 s ÷ $sign_us µs ≈ **$(num "$(( 2 * sign_bound ))")/s** by the calibration, less what the HTTP stack, PostgreSQL and wrk
take of the same cores. Server CPU per refresh: $(us refresh a) µs ($(cpu_split refresh a)). JFR: EC arithmetic
$(share refresh "ECDSA / EC arithmetic (JDK)") % of the JVM's samples, busiest thread $(hot_thread refresh); the JVM used $(res refresh a) % of a core,
PostgreSQL $(res refresh pg) %. ES256 signatures at this price keep 2,700/s out of reach on these two cores; a cheaper
signature would not (HS256: $hs_us µs; RS256 signs slower, $rs_sign_us µs).

**Introspection.** An access token is checked where Bearer routes check theirs, on the HTTP event loop: the admin key
and the introspected token are each a lookup in the verified-token memory, the service key's admin check needs no
lookup, and the session's liveness comes from the same session-liveness cache as on Bearer routes (one event-bus
round trip and one \`SELECT\` per session in use every 3.75 s, in the background). Server CPU per request: $(us introspect a) µs
($(cpu_split introspect a)); the JVM used $(res introspect a) % of a core and PostgreSQL $(res introspect pg) %
(CPU-bound rate $(num "$(cpu_bound introspect a)")/s: $(bound_text introspect a)); busiest thread $(hot_thread introspect). A refresh
token is still looked up in the database (one event-bus round trip and one \`SELECT\`).

**Password grant with a near-free hash.** Each sign-in: the near-free argon2id check and the lockout state on a
credential worker, a transaction (mark signed in, read user, insert session and first refresh token), an audit-log
insert, and one ES256 signature — in \`TokenVerticle\`, on every event loop, within the same signing bound as refresh.
Server CPU per sign-in: $(us signin-cheap b) µs ($(cpu_split signin-cheap b)); JFR: EC arithmetic
$(share signin-cheap "ECDSA / EC arithmetic (JDK)") %, busiest thread $(hot_thread signin-cheap).

**Password grant with the default argon2id.** Bound by the hash, by design: two credential workers, one hash
$HASH_MS ms (sequential sign-ins on idle A); during the load the histogram's mean was $LOADED_HASH_MS ms, as the two workers share
the cores with everything else. Measured $(res signin-default rps)/s against the bound $HASH_BOUND/s.

**Guarded route during a sign-in flood.** The two argon2id workers can take both cores; the event loops compete
with them for CPU, so the guarded route's rate drops ($(num "$(res flood-guarded rps)")/s against $(num "$g_rps")/s alone) and its queue and p99 grow
($(ratio "$flood_p99" "$g_p99")× the idle p99). JFR of the flood's window: argon2id $(share flood-guarded "argon2id (password4j)") % of the JVM's samples. Nothing gives
the event loops priority over hashing but the hashing threads' nice value (10): the scheduler gives the event loops
about nine tenths of a core they contend for, so the guarded route keeps most of its rate and its p99, and the
sign-ins get what it leaves (here, with the guarded load saturating the cores: the rate in the table above; alone
they reach the bound).

**Start-up.** See the phases above: the external-database start is JVM start and configuration, then (at once,
on three threads) the database reached and its schema checked (one query on \`databasechangelog\`; Liquibase loads
and runs only when the schema is not exactly the bundled changelog's), the verticles' resources read, and Vert.x
created; then the signing keys loaded and the verticles deployed; the embedded restart adds starting PostgreSQL. JFR's samples of B's start (table above) name the components. A start is mostly
single-threaded class loading and first-time (interpreted) code, so it scales with the CPU it gets: on a shared
machine it is several times slower than on a quiet one. The JVM's counters put class loading at $(class_loading b-start)
of B's start; an AppCDS archive (classes pre-parsed and mapped from one file)$( [ -z "$CDS_MS" ] || echo " brought B's start to $(secs "$CDS_MS")") —
adding \`-XX:SharedArchiveFile\` is a deployment change (README, "Speed"; \`scripts/bench-startup\` measures it).

**Memory.** The JVMs run as the README starts them: \`-Xmx1g\` (\`JAVA_OPTS\`, the README's command's) and the sizing
\`serve\` applies in its own JVM. Resident memory follows what the heap touched: at idle A ($(mib "$A_IDLE_KIB") MiB) is larger
than B ($(mib "$B_IDLE_KIB") MiB) because starting the embedded PostgreSQL through zonky reads its whole packaged PostgreSQL
archive into a byte array to checksum it, on every start; under load the heap grows within its limit (argon2id
takes 19 MiB per hashing worker) and G1 gives it back when idle. The embedded PostgreSQL's own processes are not
counted. Without a limit G1 grows the heap whenever its pauses take over 1 % of the time while it is under half
its maximum (a quarter of the RAM), and keeps it (README, "Memory").

## Method

- Servers: \`java -jar target/portcullis.jar serve\` (no JVM options unless \`JAVA_OPTS\` is set) with
  \`PORTCULLIS_RATE_LIMITS=off\`, \`PORTCULLIS_ACCESS_LOG_LEVEL=WARN\`, \`PORTCULLIS_LOG_FORMAT=TEXT\`,
  \`PORTCULLIS_HTTP_HOST=127.0.0.1\`, a free port and a fresh temporary data directory; everything else default
  (ES256 tokens, argon2id 19 MiB / 2 iterations, 2 hashing workers, 4 HTTP event loops on 2 cores).
  **A**: embedded PostgreSQL. **B**: \`PORTCULLIS_DB_URL\` = A's embedded PostgreSQL,
  \`PORTCULLIS_PASSWORD_ARGON2_MEMORY_KIB=8\`, \`PORTCULLIS_PASSWORD_ARGON2_ITERATIONS=1\` (near-free hash).
- Load generator: wrk (Debian package), \`-t$THREADS\`, \`--timeout 10s\`, each load bounded by \`-d\` ($DURATION s measured,
  warm-ups of $WARMUP s), against 127.0.0.1 only; \`scripts/bench-tools/bench.lua\` makes the requests and prints the
  result line. Warm-up: rounds of $WARMUP s until two in a row differ by less than 10 % (at most $MAX_WARMUPS): on a busy
  machine the JIT needs tens of seconds before the EC arithmetic is compiled. Warm-up rounds used: guarded
  $(cat "$WORK/guarded.warmups" 2>/dev/null || echo -), ceiling $(cat "$WORK/ceiling.warmups" 2>/dev/null || echo -), refresh $(cat "$WORK/refresh.warmups" 2>/dev/null || echo -), introspection $(cat "$WORK/introspect.warmups" 2>/dev/null || echo -), near-free sign-in $(cat "$WORK/signin-cheap.warmups" 2>/dev/null || echo -).
- Tokens: sessions come from B's cheap password grant (one user); they are in the shared database and A serves
  them (same keys). Bearer loads cycle through 256 access tokens of distinct sessions (one per request,
  round-robin), so a cache keyed by token would not see only one token; the ceiling sends the same headers.
- Refresh: every request presents a refresh token that was never presented before, and the token a 200 answer
  carries goes back into the generator's pool (each wrk thread starts with $(( REFRESH_SESSIONS / THREADS )) sessions for its $(( CONNS / THREADS ))
  connections). That measures real rotation. Replaying one token would not: within
  \`sessions.refresh_token_reuse_interval\` (10 s) a replay is answered with the session's current token without
  rotating (no revoke, insert, update or audit row), a cheaper path that clients only take after a lost answer.
- Introspection: \`POST /auth/v1/oauth/introspect\`, \`Authorization: Bearer <service key>\` (from the
  \`service-key\` command), form \`token=<access token>\` cycling through the 256 access tokens.
- Password grants: JSON \`{email, password}\` of one existing user, $SIGNIN_CONNS connections for the near-free hash (below the
  hashing bound of 2 workers + 64 queued, so no 503) and $HASH_CONNS for the default hash. One hash time: $HASH_SAMPLES sequential
  sign-ins on idle A, mean of \`portcullis_password_hash_seconds\` (sum ÷ count from \`/metrics\`); the bound is 2 cores ÷
  that time (median sequential sign-in, all included: $SEQ_SIGNIN_MS ms).
- Flood: the default-hash sign-in load (\`-t1 -c$HASH_CONNS\`) and the guarded load ($CONNS connections) run at the same time
  for $DURATION s; the idle p99 is the guarded load's above.
- Start-up: from launching \`java\` to the first 200 from \`/ready\` (polled every 20 ms). A's first start initializes
  the database; then A is stopped (SIGTERM) and restarted $STARTS times; B is started $STARTS times against A's PostgreSQL.
- Memory: VmRSS from \`/proc/<pid>/status\`, 5 s after start (idle), after each load (loaded), VmHWM (peak).
- CPU: utime + stime from \`/proc/<pid>/stat\` of the JVM, of PostgreSQL's postmaster and backends, and of wrk
  (its parent shell's cutime + cstime), over each load's wall time.

## How to reproduce

\`\`\`sh
scripts/bench                         # builds the jar if needed, 10-15 minutes, rewrites BENCHMARKS.md
BENCH_DURATION=30 scripts/bench       # longer measured loads
BENCH_KEEP=1 scripts/bench            # keep the work directory: server logs, wrk output, JFR recordings
\`\`\`

Needs Java 17 (a JDK for \`jcmd\`/\`jfr\`; with a JRE profiling is skipped), Maven (to build), curl and wrk
(\`apt-get install -y wrk\`; the script installs it when it runs as root). Settings: \`BENCH_DURATION\` ($DURATION),
\`BENCH_WARMUP\` ($WARMUP), \`BENCH_MAX_WARMUPS\` ($MAX_WARMUPS), \`BENCH_PROFILE\` ($PROFILE; 0 skips JFR), \`BENCH_STARTS\` ($STARTS),
\`BENCH_CDS\` (1; 0 skips the AppCDS start), \`BENCH_OUT\`, \`JAVA_OPTS\`. For numbers to quote: a quiet machine (no builds
or tests running; \`uptime\` load near 0), the same 2 cores, and compare the machine-load lines at the top.
MD
}
