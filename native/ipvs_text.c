// The per-line work of a big default listing (`lvsd ipvs list -n`), in C: reading
// /proc/net/ip_vs into columns (on a thread of libuv's pool: the kernel's read is slow), joining
// its services to the netlink dump's, sorting services and real servers in libipvs's order, and
// writing the real server lines. Under the lab's emulation the same loops in JavaScript cost
// seconds at 50,000 lines, mostly compiling and running JIT code; here they cost milliseconds.
//
// These are fast paths only: src/ipvs/procfs.ts and src/ipvs/format/ hold the definitions and
// the error messages. parse() accepts exactly procfs.ts's grammar and returns undefined for
// anything else, so that the JavaScript reader runs and names the line; the unit tests
// (c-fast-paths-give-the-javascript-results) compare the two on random and damaged input.
#define NAPI_VERSION 8
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) return NULL;                                              \
  } while (0)

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

// ---- reading /proc/net/ip_vs (ip_vs_info_seq_show) ----

typedef struct {
  const uint8_t *b;
  size_t n, p;
} Scan;

enum { SVC_FIELDS = 10 }; // kind, inet6, w0..w3, port or fwmark, first, count, (spare)
enum { KIND_TCP, KIND_UDP, KIND_SCTP, KIND_FWM };

typedef struct {
  size_t length, capacity;
  uint8_t *inet6, *forward;
  uint32_t *words;
  uint16_t *port;
  int32_t *weight, *active, *inactive;
} Columns;

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int starts(const Scan *s, const char *t) {
  size_t k = strlen(t);
  return s->p + k <= s->n && memcmp(s->b + s->p, t, k) == 0;
}

static void spaces(Scan *s) {
  while (s->p < s->n && s->b[s->p] == ' ') s->p++;
}

static int next_line(Scan *s) {
  const uint8_t *nl = s->p < s->n ? memchr(s->b + s->p, '\n', s->n - s->p) : NULL;
  if (!nl) return 0;
  s->p = (size_t)(nl - s->b) + 1;
  return 1;
}

static int hex(Scan *s, int digits, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < digits; i++) {
    int d = s->p < s->n ? hexval(s->b[s->p]) : -1;
    if (d < 0) return 0;
    v = v * 16 + (uint32_t)d;
    s->p++;
  }
  *out = v;
  return 1;
}

// "C6120001:0050" or "[2001:0db8:...:0001]:0050"
static int endpoint(Scan *s, int *inet6, uint32_t w[4], uint32_t *port) {
  spaces(s);
  if (s->p < s->n && s->b[s->p] == '[') {
    size_t at = s->p + 1;
    if (at + 40 > s->n) return 0;
    for (int g = 0; g < 8; g++) {
      const uint8_t *q = s->b + at + g * 5;
      if (hexval(q[0]) < 0 || hexval(q[1]) < 0 || hexval(q[2]) < 0 || hexval(q[3]) < 0 || q[4] != (g < 7 ? ':' : ']')) return 0;
    }
    for (int k = 0; k < 4; k++) {
      uint32_t hi = 0, lo = 0; // checked above: hex() succeeds
      s->p = at + k * 10;
      hex(s, 4, &hi);
      s->p++;
      hex(s, 4, &lo);
      w[k] = hi << 16 | lo;
    }
    s->p = at + 40;
    *inet6 = 1;
  } else {
    if (!hex(s, 8, &w[0])) return 0;
    w[1] = w[2] = w[3] = 0;
    *inet6 = 0;
  }
  if (s->p >= s->n || s->b[s->p] != ':') return 0;
  s->p++;
  return hex(s, 4, port);
}

// a non-empty run of bytes up to a space or the end of the line; returns its length
static size_t field(Scan *s, size_t *start) {
  spaces(s);
  *start = s->p;
  while (s->p < s->n && s->b[s->p] != ' ' && s->b[s->p] != '\n') s->p++;
  return s->p - *start;
}

// %d, at most 10 digits, followed by a space or the end of the line; stored as Int32Array would
static int integer(Scan *s, int32_t *out) {
  spaces(s);
  int neg = 0;
  if (s->p < s->n && s->b[s->p] == '-') {
    neg = 1;
    s->p++;
  }
  size_t start = s->p;
  uint64_t v = 0;
  while (s->p < s->n && s->b[s->p] >= '0' && s->b[s->p] <= '9') {
    if (s->p - start < 11) v = v * 10 + (uint64_t)(s->b[s->p] - '0');
    s->p++;
  }
  if (s->p == start || s->p - start > 10 || s->p >= s->n || (s->b[s->p] != ' ' && s->b[s->p] != '\n')) return 0;
  *out = (int32_t)(uint32_t)(neg ? (uint64_t)0 - v : v);
  return 1;
}

static const char *const FORWARD[] = {"Masq", "Local", "Tunnel", "Route"}; // by FwdMethod code

static int forward_code(Scan *s) {
  size_t start, k = field(s, &start);
  for (int i = 0; i < 4; i++)
    if (k == strlen(FORWARD[i]) && memcmp(s->b + start, FORWARD[i], k) == 0) return i;
  return -1;
}

static int columns_init(Columns *c, size_t capacity) {
  memset(c, 0, sizeof *c);
  c->capacity = capacity ? capacity : 1;
  c->inet6 = malloc(c->capacity);
  c->forward = malloc(c->capacity);
  c->words = malloc(c->capacity * 16);
  c->port = malloc(c->capacity * 2);
  c->weight = malloc(c->capacity * 4);
  c->active = malloc(c->capacity * 4);
  c->inactive = malloc(c->capacity * 4);
  return c->inet6 && c->forward && c->words && c->port && c->weight && c->active && c->inactive;
}

static void columns_free(Columns *c) {
  free(c->inet6);
  free(c->forward);
  free(c->words);
  free(c->port);
  free(c->weight);
  free(c->active);
  free(c->inactive);
}

static size_t count_arrows(const uint8_t *b, size_t n) {
  size_t k = 0;
  for (const uint8_t *q = b; (q = memchr(q, '\n', (size_t)(b + n - q))) != NULL; q++)
    if ((size_t)(b + n - q) > 5 && memcmp(q + 1, "  -> ", 5) == 0) k++;
  return k;
}

static const char *const TITLES[] = {"IP Virtual Server version ", "Prot LocalAddress:Port", "  -> RemoteAddress:Port"};
static const char *const KIND[] = {"TCP ", "UDP ", "SCTP ", "FWM "};

// 1: parsed; 0: not the grammar (the JavaScript reader will say why)
static int parse_table(Scan *s, Columns *c, uint32_t *svc, size_t svc_cap, size_t *svc_len) {
  for (int i = 0; i < 3; i++)
    if (!starts(s, TITLES[i]) || !next_line(s)) return 0;
  uint32_t *current = NULL;
  *svc_len = 0;
  while (s->p < s->n) {
    uint32_t w[4], port;
    int inet6;
    if (starts(s, "  -> ")) {
      if (!current) return 0;
      s->p += 5;
      int32_t weight, active, inactive;
      if (!endpoint(s, &inet6, w, &port)) return 0;
      int fwd = forward_code(s);
      if (fwd < 0 || !integer(s, &weight) || !integer(s, &active) || !integer(s, &inactive)) return 0;
      spaces(s);
      if (s->p >= s->n || s->b[s->p] != '\n') return 0;
      size_t i = c->length;
      if (i == c->capacity) return 0; // counted before: cannot happen
      c->inet6[i] = (uint8_t)inet6;
      memcpy(c->words + i * 4, w, 16);
      c->port[i] = (uint16_t)port;
      c->forward[i] = (uint8_t)fwd;
      c->weight[i] = weight;
      c->active[i] = active;
      c->inactive[i] = inactive;
      c->length++;
      current[8]++;
    } else {
      int kind = -1;
      for (int k = 0; k < 4 && kind < 0; k++)
        if (starts(s, KIND[k])) kind = k;
      if (kind < 0 || *svc_len == svc_cap) return 0;
      s->p += strlen(KIND[kind]) - 1;
      if (kind == KIND_FWM) {
        spaces(s);
        if (!hex(s, 8, &port)) return 0;
        inet6 = 0;
        w[0] = w[1] = w[2] = w[3] = 0;
      } else if (!endpoint(s, &inet6, w, &port)) {
        return 0;
      }
      size_t start;
      if (field(s, &start) == 0) return 0; // the scheduler
      current = svc + *svc_len * SVC_FIELDS;
      current[0] = (uint32_t)kind;
      current[1] = (uint32_t)inet6;
      memcpy(current + 2, w, 16);
      current[6] = port;
      current[7] = (uint32_t)c->length;
      current[8] = 0;
      current[9] = 0;
      ++*svc_len;
    }
    if (!next_line(s)) return 0;
  }
  return 1;
}

static napi_value typed(napi_env env, napi_typedarray_type type, size_t elem, const void *src, size_t n) {
  void *data;
  napi_value ab, arr;
  CHECK(napi_create_arraybuffer(env, n * elem, &data, &ab));
  if (n) memcpy(data, src, n * elem);
  CHECK(napi_create_typedarray(env, type, n, ab, 0, &arr));
  return arr;
}

static int set(napi_env env, napi_value obj, const char *name, napi_value v) {
  return v != NULL && napi_set_named_property(env, obj, name, v) == napi_ok;
}

typedef struct {
  int ok;
  Columns c;
  uint32_t *svc;
  size_t svc_len;
} Parsed;

static void parse_bytes(const uint8_t *b, size_t n, Parsed *out) {
  memset(out, 0, sizeof *out);
  Scan s = {b, n, 0};
  size_t svc_cap = 1;
  for (const uint8_t *q = b; n && (q = memchr(q, '\n', (size_t)(b + n - q))) != NULL; q++) svc_cap++;
  out->svc = malloc(svc_cap * SVC_FIELDS * 4);
  out->ok = out->svc && columns_init(&out->c, n ? count_arrows(b, n) : 0) && parse_table(&s, &out->c, out->svc, svc_cap, &out->svc_len);
}

static void parsed_free(Parsed *p) {
  columns_free(&p->c);
  free(p->svc);
}

// { services: Uint32Array (SVC_FIELDS each), length, inet6, words, port, forward, weight,
// activeConns, inactiveConns }, or undefined when the text was not the grammar
static napi_value parsed_value(napi_env env, const Parsed *p) {
  napi_value obj, len, undef;
  CHECK(napi_get_undefined(env, &undef));
  if (!p->ok) return undef;
  const Columns *c = &p->c;
  size_t m = c->length;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_uint32(env, (uint32_t)m, &len));
  if (set(env, obj, "services", typed(env, napi_uint32_array, 4, p->svc, p->svc_len * SVC_FIELDS)) && set(env, obj, "length", len) &&
      set(env, obj, "inet6", typed(env, napi_uint8_array, 1, c->inet6, m)) &&
      set(env, obj, "words", typed(env, napi_uint32_array, 4, c->words, m * 4)) &&
      set(env, obj, "port", typed(env, napi_uint16_array, 2, c->port, m)) &&
      set(env, obj, "forward", typed(env, napi_uint8_array, 1, c->forward, m)) &&
      set(env, obj, "weight", typed(env, napi_int32_array, 4, c->weight, m)) &&
      set(env, obj, "activeConns", typed(env, napi_int32_array, 4, c->active, m)) &&
      set(env, obj, "inactiveConns", typed(env, napi_int32_array, 4, c->inactive, m)))
    return obj;
  return NULL;
}

// parse(text: Uint8Array) -> parsed_value
static napi_value parse(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t n;
  void *data;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &n, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "parse(text: Uint8Array)");
    return NULL;
  }
  Parsed p;
  parse_bytes(data, n, &p);
  napi_value v = parsed_value(env, &p);
  parsed_free(&p);
  return v;
}

// ---- reading the file on a thread of libuv's pool ----
// The kernel hands out a page per read(2) and walks the table from its start again for each,
// which costs seconds of system time for a big table; on the pool it overlaps the netlink dump.

typedef struct {
  char *path;
  uint8_t *text;
  size_t length;
  int error; // errno of open or read; 0: text read
  Parsed parsed;
  napi_deferred deferred;
  napi_async_work work;
} ReadJob;

static void read_execute(napi_env env, void *data) {
  (void)env;
  ReadJob *job = data;
  int fd = open(job->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    job->error = errno;
    return;
  }
  size_t cap = 1 << 16, used = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      job->error = ENOMEM;
      break;
    }
    if (cap - used < 1 << 15) {
      uint8_t *more = realloc(buf, cap * 2);
      if (!more) {
        free(buf);
        buf = NULL;
        continue;
      }
      buf = more;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + used, cap - used);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      job->error = errno;
      break;
    }
    if (r == 0) break;
    used += (size_t)r;
  }
  close(fd);
  if (job->error) {
    free(buf);
    return;
  }
  job->text = buf;
  job->length = used;
  parse_bytes(buf, used, &job->parsed);
}

static void read_complete(napi_env env, napi_status status, void *data) {
  ReadJob *job = data;
  napi_value result = NULL, text;
  if (status == napi_ok && job->error == 0 && napi_create_object(env, &result) == napi_ok) {
    if (napi_create_external_buffer(env, job->length, job->text, free_buffer, NULL, &text) == napi_ok) {
      job->text = NULL; // the buffer frees it
      if (!set(env, result, "text", text) || !set(env, result, "table", parsed_value(env, &job->parsed))) result = NULL;
    } else {
      result = NULL;
    }
  }
  if (result == NULL) napi_get_undefined(env, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  parsed_free(&job->parsed);
  free(job->text);
  free(job->path);
  free(job);
}

// readTable(path: string) -> Promise<{ text: Buffer, table: parsed_value } | undefined>
// (undefined: the file could not be opened or read)
static napi_value read_table(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1], promise, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "readTable(path: string)");
    return NULL;
  }
  ReadJob *job = calloc(1, sizeof *job);
  if (!job || !(job->path = malloc(len + 1))) {
    free(job);
    napi_throw_error(env, NULL, "readTable: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], job->path, len + 1, &len);
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "lvsd:readTable", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, read_execute, read_complete, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

// ---- writing the default listing's real server lines (ipvsadm.c print_service_entry) ----

typedef struct {
  const uint8_t *inet6, *forward;
  const uint32_t *words;
  const uint16_t *port;
  const int32_t *weight, *active, *inactive;
  size_t length;
} View;

// libipvs ipvs_cmp_dests, with its C arithmetic (unsigned differences read as int)
static int cmp_dests(const View *v, uint32_t a, uint32_t b) {
  const uint32_t *wa = v->words + a * 4, *wb = v->words + b * 4;
  int32_t r = (int32_t)(wa[0] - wb[0]);
  if (v->inet6[a] == 1 && r == 0) {
    r = (int32_t)(wa[1] - wb[1]);
    if (r == 0) r = (int32_t)(wa[2] - wb[2]);
    if (r == 0) r = (int32_t)(wa[3] - wb[3]);
  }
  return r != 0 ? r : (int)v->port[a] - (int)v->port[b];
}

// glibc msort: split n/2, merge taking the left element while cmp(left, right) <= 0
static void merge_sort(const View *v, uint32_t *order, size_t n, uint32_t *tmp) {
  if (n <= 1) return;
  size_t n1 = n / 2;
  merge_sort(v, order, n1, tmp);
  merge_sort(v, order + n1, n - n1, tmp);
  size_t i = 0, j = n1, k = 0;
  while (i < n1 && j < n) tmp[k++] = cmp_dests(v, order[i], order[j]) <= 0 ? order[i++] : order[j++];
  while (i < n1) tmp[k++] = order[i++];
  memcpy(order, tmp, k * 4);
}

static uint8_t *put_int(uint8_t *p, int64_t n) {
  char digits[24];
  int k = 0;
  if (n < 0) {
    *p++ = '-';
    n = -n;
  }
  do {
    digits[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (k > 0) *p++ = (uint8_t)digits[--k];
  return p;
}

static uint8_t *pad_to(uint8_t *p, uint8_t *to) {
  while (p < to) *p++ = ' ';
  return p;
}

static const char FORWARD_COLUMN[4][8] = {"Masq   ", "Local  ", "Tunnel ", "Route  "};
enum { LINE_MAX_BYTES = 160 };

// "  -> %-28s %-7s %-6d %-10d %-10d\n", the address numeric ("[%s]" for IPv6, not cut)
static uint8_t *real_server_line(const View *v, uint32_t k, uint8_t *p) {
  uint8_t *start = p;
  memcpy(p, "  -> ", 5);
  p += 5;
  const uint32_t *w = v->words + k * 4;
  if (v->inet6[k]) {
    uint8_t bytes[16];
    char text[INET6_ADDRSTRLEN];
    for (int i = 0; i < 4; i++) {
      bytes[i * 4] = (uint8_t)(w[i] >> 24);
      bytes[i * 4 + 1] = (uint8_t)(w[i] >> 16);
      bytes[i * 4 + 2] = (uint8_t)(w[i] >> 8);
      bytes[i * 4 + 3] = (uint8_t)w[i];
    }
    inet_ntop(AF_INET6, bytes, text, sizeof text);
    *p++ = '[';
    size_t t = strlen(text);
    memcpy(p, text, t);
    p += t;
    *p++ = ']';
  } else {
    p = put_int(p, w[0] >> 24);
    *p++ = '.';
    p = put_int(p, (w[0] >> 16) & 0xff);
    *p++ = '.';
    p = put_int(p, (w[0] >> 8) & 0xff);
    *p++ = '.';
    p = put_int(p, w[0] & 0xff);
  }
  *p++ = ':';
  p = put_int(p, v->port[k]);
  p = pad_to(p, start + 5 + 28);
  *p++ = ' ';
  memcpy(p, FORWARD_COLUMN[v->forward[k]], 7);
  p += 7;
  *p++ = ' ';
  uint8_t *col = p;
  p = pad_to(put_int(p, v->weight[k]), col + 6);
  *p++ = ' ';
  col = p;
  p = pad_to(put_int(p, v->active[k]), col + 10);
  *p++ = ' ';
  col = p;
  p = pad_to(put_int(p, v->inactive[k]), col + 10);
  *p++ = '\n';
  return p;
}

static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t *n, void **data) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, v, &type, n, data, NULL, NULL) == napi_ok && type == want;
}

// insertRealServers(text, at, first, count, sort, inet6, words, port, forward, weight,
// activeConns, inactiveConns) -> Buffer | undefined: text with, at each at[i], the lines of
// real servers first[i] .. first[i] + count[i] (sorted when sort is true)
static napi_value insert_real_servers(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12], undef;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_undefined(env, &undef));
  size_t n_text, n_at, n_first, n_count, n6, nw, np, nf, nwe, na, ni;
  void *text, *at, *first, *count, *inet6, *words, *port, *forward, *weight, *active, *inactive;
  bool sort;
  if (argc < 12 || !typed_arg(env, argv[0], napi_uint8_array, &n_text, &text) || !typed_arg(env, argv[1], napi_uint32_array, &n_at, &at) ||
      !typed_arg(env, argv[2], napi_uint32_array, &n_first, &first) || !typed_arg(env, argv[3], napi_uint32_array, &n_count, &count) ||
      napi_get_value_bool(env, argv[4], &sort) != napi_ok || !typed_arg(env, argv[5], napi_uint8_array, &n6, &inet6) ||
      !typed_arg(env, argv[6], napi_uint32_array, &nw, &words) || !typed_arg(env, argv[7], napi_uint16_array, &np, &port) ||
      !typed_arg(env, argv[8], napi_uint8_array, &nf, &forward) || !typed_arg(env, argv[9], napi_int32_array, &nwe, &weight) ||
      !typed_arg(env, argv[10], napi_int32_array, &na, &active) || !typed_arg(env, argv[11], napi_int32_array, &ni, &inactive) ||
      n_first != n_at || n_count != n_at) {
    napi_throw_type_error(env, NULL, "insertRealServers: arguments");
    return NULL;
  }
  View v = {inet6, forward, words, port, weight, active, inactive, np};
  if (n6 < v.length || nw < v.length * 4 || nf < v.length || nwe < v.length || na < v.length || ni < v.length) v.length = 0;
  const uint32_t *at_ = at, *first_ = first, *count_ = count;
  size_t lines = 0, longest = 0, prev = 0;
  for (size_t i = 0; i < n_at; i++) {
    // in order, inside the text, inside the columns, and forwarding codes known: else not ours
    if (at_[i] < prev || at_[i] > n_text || (uint64_t)first_[i] + count_[i] > v.length) return undef;
    prev = at_[i];
    lines += count_[i];
    if (count_[i] > longest) longest = count_[i];
    for (uint32_t j = first_[i]; j < first_[i] + count_[i]; j++)
      if (v.forward[j] > 3) return undef;
  }
  uint8_t *out = malloc(n_text + lines * LINE_MAX_BYTES + 1);
  uint32_t *order = malloc((longest + 1) * 4), *tmp = malloc((longest + 1) * 4);
  if (!out || !order || !tmp) {
    free(out);
    free(order);
    free(tmp);
    return undef;
  }
  uint8_t *p = out;
  size_t from = 0;
  for (size_t i = 0; i < n_at; i++) {
    memcpy(p, (uint8_t *)text + from, at_[i] - from);
    p += at_[i] - from;
    from = at_[i];
    for (uint32_t j = 0; j < count_[i]; j++) order[j] = first_[i] + j;
    if (sort) merge_sort(&v, order, count_[i], tmp);
    for (uint32_t j = 0; j < count_[i]; j++) p = real_server_line(&v, order[j], p);
  }
  memcpy(p, (uint8_t *)text + from, n_text - from);
  p += n_text - from;
  free(order);
  free(tmp);
  napi_value buf;
  CHECK(napi_create_external_buffer(env, (size_t)(p - out), out, free_buffer, NULL, &buf));
  return buf;
}

// ---- services: joined to /proc's entries, and sorted (libipvs ipvs_cmp_services) ----

typedef struct {
  const uint32_t *fwmark, *words;
  const uint8_t *af, *protocol;
  const uint16_t *port;
  size_t length;
} Keys;

static int keys_arg(napi_env env, napi_value *argv, Keys *k) {
  size_t n1, n2, n3, n4, n5;
  void *fwmark, *af, *protocol, *words, *port;
  if (!typed_arg(env, argv[0], napi_uint32_array, &n1, &fwmark) || !typed_arg(env, argv[1], napi_uint8_array, &n2, &af) ||
      !typed_arg(env, argv[2], napi_uint8_array, &n3, &protocol) || !typed_arg(env, argv[3], napi_uint32_array, &n4, &words) ||
      !typed_arg(env, argv[4], napi_uint16_array, &n5, &port) || n2 < n1 || n3 < n1 || n4 < n1 * 4 || n5 < n1)
    return 0;
  *k = (Keys){fwmark, words, af, protocol, port, n1};
  return 1;
}

// a service's identity as /proc/net/ip_vs shows it: kind, inet6, address words, port or fwmark
typedef struct {
  uint32_t kind, inet6, w[4], port;
} Ident;

static uint32_t ident_hash(const Ident *id) {
  uint32_t h = 2166136261u;
  const uint32_t v[7] = {id->kind, id->inet6, id->w[0], id->w[1], id->w[2], id->w[3], id->port};
  for (int i = 0; i < 7; i++) h = (h ^ v[i]) * 16777619u;
  return h ^ (h >> 15);
}

static int ident_eq(const Ident *a, const Ident *b) {
  return memcmp(a, b, sizeof *a) == 0;
}

static Ident proc_ident(const uint32_t *f) {
  Ident id = {f[0], f[1], {f[2], f[3], f[4], f[5]}, f[6]};
  return id;
}

// 0: no /proc kind (a protocol /proc does not print)
static int key_ident(const Keys *k, size_t i, Ident *id) {
  memset(id, 0, sizeof *id);
  if (k->fwmark[i] != 0) {
    id->kind = KIND_FWM;
    id->port = k->fwmark[i];
    return 1;
  }
  switch (k->protocol[i]) {
    case 6: id->kind = KIND_TCP; break;
    case 17: id->kind = KIND_UDP; break;
    case 132: id->kind = KIND_SCTP; break;
    default: return 0;
  }
  id->inet6 = k->af[i] == 10;
  memcpy(id->w, k->words + i * 4, id->inet6 ? 16 : 4);
  id->port = k->port[i];
  return 1;
}

// joinServices(fwmark, af, protocol, words, port, procServices) -> Int32Array: for each service
// the index of its entry among parse()'s services, or -1 (not there, or there twice: an IPv4 and
// an IPv6 service with the same fwmark look alike in /proc)
static napi_value join_services(napi_env env, napi_callback_info info) {
  size_t argc = 6, nf;
  napi_value argv[6];
  void *fields;
  Keys k;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !keys_arg(env, argv, &k) || !typed_arg(env, argv[5], napi_uint32_array, &nf, &fields)) {
    napi_throw_type_error(env, NULL, "joinServices: arguments");
    return NULL;
  }
  const uint32_t *f = fields;
  size_t entries = nf / SVC_FIELDS, size = 16;
  while (size < entries * 2) size <<= 1;
  int32_t *slot = malloc(size * 4); // entry index + 1; 0: empty
  uint8_t *twice = calloc(entries + 1, 1);
  void *data;
  napi_value ab, out;
  if (!slot || !twice || napi_create_arraybuffer(env, k.length * 4, &data, &ab) != napi_ok) {
    free(slot);
    free(twice);
    napi_throw_error(env, NULL, "joinServices: out of memory");
    return NULL;
  }
  memset(slot, 0, size * 4);
  for (size_t e = 0; e < entries; e++) {
    Ident id = proc_ident(f + e * SVC_FIELDS);
    for (uint32_t h = ident_hash(&id) & (size - 1);; h = (h + 1) & (size - 1)) {
      if (slot[h] == 0) {
        slot[h] = (int32_t)e + 1;
        break;
      }
      Ident other = proc_ident(f + (size_t)(slot[h] - 1) * SVC_FIELDS);
      if (ident_eq(&id, &other)) {
        twice[slot[h] - 1] = 1;
        break;
      }
    }
  }
  int32_t *at = data;
  for (size_t i = 0; i < k.length; i++) {
    Ident id;
    at[i] = -1;
    if (!key_ident(&k, i, &id)) continue;
    for (uint32_t h = ident_hash(&id) & (size - 1); slot[h] != 0; h = (h + 1) & (size - 1)) {
      Ident other = proc_ident(f + (size_t)(slot[h] - 1) * SVC_FIELDS);
      if (ident_eq(&id, &other)) {
        if (!twice[slot[h] - 1]) at[i] = slot[h] - 1;
        break;
      }
    }
  }
  free(slot);
  free(twice);
  CHECK(napi_create_typedarray(env, napi_int32_array, k.length, ab, 0, &out));
  return out;
}

static int cmp_services(const Keys *k, uint32_t a, uint32_t b) {
  int32_t r = (int32_t)(k->fwmark[a] - k->fwmark[b]);
  if (r != 0) return r;
  r = (int)k->af[a] - (int)k->af[b];
  if (r != 0) return r;
  r = (int)k->protocol[a] - (int)k->protocol[b];
  if (r != 0) return r;
  const uint32_t *wa = k->words + a * 4, *wb = k->words + b * 4;
  r = (int32_t)(wa[0] - wb[0]);
  if (k->af[a] == 10 && r == 0) {
    r = (int32_t)(wa[1] - wb[1]);
    if (r == 0) r = (int32_t)(wa[2] - wb[2]);
    if (r == 0) r = (int32_t)(wa[3] - wb[3]);
  }
  if (r != 0) return r;
  return (int)k->port[a] - (int)k->port[b];
}

static void merge_sort_services(const Keys *k, uint32_t *order, size_t n, uint32_t *tmp) {
  if (n <= 1) return;
  size_t n1 = n / 2;
  merge_sort_services(k, order, n1, tmp);
  merge_sort_services(k, order + n1, n - n1, tmp);
  size_t i = 0, j = n1, m = 0;
  while (i < n1 && j < n) tmp[m++] = cmp_services(k, order[i], order[j]) <= 0 ? order[i++] : order[j++];
  while (i < n1) tmp[m++] = order[i++];
  memcpy(order, tmp, m * 4);
}

// sortServices(fwmark, af, protocol, words, port) -> Uint32Array: the services' indexes in
// ipvsadm's listing order (words: libipvs's four host-order words, IPv4 in the first)
static napi_value sort_services(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], ab, out;
  Keys k;
  void *data;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !keys_arg(env, argv, &k)) {
    napi_throw_type_error(env, NULL, "sortServices: arguments");
    return NULL;
  }
  uint32_t *tmp = malloc((k.length + 1) * 4);
  if (!tmp || napi_create_arraybuffer(env, k.length * 4, &data, &ab) != napi_ok) {
    free(tmp);
    napi_throw_error(env, NULL, "sortServices: out of memory");
    return NULL;
  }
  uint32_t *order = data;
  for (size_t i = 0; i < k.length; i++) order[i] = (uint32_t)i;
  merge_sort_services(&k, order, k.length, tmp);
  free(tmp);
  CHECK(napi_create_typedarray(env, napi_uint32_array, k.length, ab, 0, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  CHECK(napi_create_function(env, "parse", NAPI_AUTO_LENGTH, parse, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "parse", f));
  CHECK(napi_create_function(env, "readTable", NAPI_AUTO_LENGTH, read_table, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "readTable", f));
  CHECK(napi_create_function(env, "insertRealServers", NAPI_AUTO_LENGTH, insert_real_servers, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "insertRealServers", f));
  CHECK(napi_create_function(env, "joinServices", NAPI_AUTO_LENGTH, join_services, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "joinServices", f));
  CHECK(napi_create_function(env, "sortServices", NAPI_AUTO_LENGTH, sort_services, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "sortServices", f));
  return exports;
}

NAPI_MODULE(ipvs_text, init)
