// Many netlink dumps in a row on one socket of its own, run on a thread of libuv's pool, every
// reply kept as the bytes it came in. A counters listing at 10,000 services is 10,000
// destination dumps; through the `netlink` package each datagram costs a fresh zero-filled
// buffer and a JavaScript callback, which under the lab's emulation is ~1.5-3 ms a dump against
// the kernel's ~0.1 ms.
//
// Transport only: src/netlink/dumps.ts reads what comes back (parts, NLMSG_DONE, NLMSG_ERROR)
// with the same code as the socket. Anything unusual on the socket itself (a failed send or
// receive, a reply that is not for the request, a timeout) gives undefined: the caller then runs
// the dumps through the ordinary socket, which names the problem.
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK(call)                 \
  do {                              \
    if ((call) != napi_ok) return NULL; \
  } while (0)

// The kernel sizes a dump's datagrams by the reader's buffer, up to 32 KiB.
enum { RECV_SIZE = 32 << 10, RECV_TIMEOUT_S = 30 };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int protocol;
  uint8_t *requests; // count messages, back to back; request i ends at ends[i]
  uint32_t *ends;
  size_t count;
  uint8_t *out; // every reply's messages, back to back; request i's end at out_ends[i]
  size_t out_len, out_cap;
  uint32_t *out_ends;
  int ok;
} Job;

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static int append(Job *job, const uint8_t *b, size_t n) {
  if (job->out_len + n > job->out_cap) {
    size_t cap = job->out_cap ? job->out_cap : 1 << 16;
    while (cap < job->out_len + n) cap *= 2;
    if (cap > UINT32_MAX) return 0;
    uint8_t *grown = realloc(job->out, cap);
    if (!grown) return 0;
    job->out = grown;
    job->out_cap = cap;
  }
  memcpy(job->out + job->out_len, b, n);
  job->out_len += n;
  return 1;
}

/** Reads datagrams until the reply of seq is complete (NLMSG_DONE or NLMSG_ERROR). */
static int read_reply(Job *job, int fd, uint8_t *buf, uint32_t seq) {
  for (;;) {
    ssize_t n = recv(fd, buf, RECV_SIZE, MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || n > RECV_SIZE) return 0;
    size_t left = (size_t)n;
    int done = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (done || h->nlmsg_seq != seq) return 0;
      done = h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR;
    }
    if (left != 0 || !append(job, buf, (size_t)n)) return 0;
    if (done) return 1;
  }
}

static void dump_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  uint8_t *buf = malloc(RECV_SIZE);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, job->protocol);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  struct timeval timeout = {.tv_sec = RECV_TIMEOUT_S};
  int ok = buf && fd >= 0 && bind(fd, (struct sockaddr *)&local, sizeof local) == 0 &&
           setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0;
  uint32_t start = 0;
  for (size_t i = 0; ok && i < job->count; i++) {
    struct nlmsghdr *h = (struct nlmsghdr *)(job->requests + start);
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h->nlmsg_seq = (uint32_t)i + 1;
    h->nlmsg_pid = 0;
    size_t len = job->ends[i] - start;
    ssize_t sent;
    do sent = send(fd, h, len, 0);
    while (sent < 0 && errno == EINTR);
    ok = sent == (ssize_t)len && read_reply(job, fd, buf, (uint32_t)i + 1);
    job->out_ends[i] = (uint32_t)job->out_len;
    start = job->ends[i];
  }
  if (fd >= 0) close(fd);
  free(buf);
  job->ok = ok;
}

static void job_free(Job *job) {
  free(job->out);
  free(job->out_ends);
  free(job->requests);
  free(job->ends);
  free(job);
}

static int set(napi_env env, napi_value obj, const char *key, napi_value v) {
  return v != NULL && napi_set_named_property(env, obj, key, v) == napi_ok;
}

static void dump_complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result = NULL, bytes, ends, array;
  void *ends_data;
  if (status == napi_ok && job->ok && napi_create_object(env, &result) == napi_ok &&
      napi_create_external_buffer(env, job->out_len, job->out ? (void *)job->out : (void *)"", job->out ? free_buffer : NULL, NULL, &bytes) == napi_ok) {
    job->out = NULL; // the buffer frees it
    if (napi_create_arraybuffer(env, job->count * 4, &ends_data, &array) != napi_ok ||
        napi_create_typedarray(env, napi_uint32_array, job->count, array, 0, &ends) != napi_ok) {
      result = NULL;
    } else {
      if (job->count) memcpy(ends_data, job->out_ends, job->count * 4);
      if (!set(env, result, "bytes", bytes) || !set(env, result, "ends", ends)) result = NULL;
    }
  } else {
    result = NULL;
  }
  if (result == NULL) napi_get_undefined(env, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  job_free(job);
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) == napi_ok && type == want;
}

// dumpEach(protocol: number, requests: Uint8Array, ends: Uint32Array)
//   -> Promise<{ bytes: Buffer, ends: Uint32Array } | undefined>
// Request i is requests[ends[i - 1] .. ends[i]] (a whole netlink message; its flags, seq and
// pid are set here); its reply is bytes[ends'[i - 1] .. ends'[i]], ending with NLMSG_DONE or
// NLMSG_ERROR.
static napi_value dump_each(napi_env env, napi_callback_info info) {
  size_t argc = 3, req_len, count;
  napi_value argv[3], promise, name;
  int32_t protocol;
  void *req, *ends;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &protocol) != napi_ok || !typed(env, argv[1], napi_uint8_array, &req, &req_len) ||
      !typed(env, argv[2], napi_uint32_array, &ends, &count)) {
    napi_throw_type_error(env, NULL, "dumpEach(protocol: number, requests: Uint8Array, ends: Uint32Array)");
    return NULL;
  }
  // every request a whole message within the buffer, in order
  uint32_t start = 0;
  for (size_t i = 0; i < count; i++) {
    uint32_t end = ((uint32_t *)ends)[i];
    if (end < start + NLMSG_HDRLEN || end > req_len) {
      napi_throw_range_error(env, NULL, "dumpEach: a request is out of range");
      return NULL;
    }
    start = end;
  }
  Job *job = calloc(1, sizeof *job);
  if (job) {
    job->requests = malloc(req_len ? req_len : 1);
    job->ends = malloc(count ? count * 4 : 1);
    job->out_ends = malloc(count ? count * 4 : 1);
  }
  if (!job || !job->requests || !job->ends || !job->out_ends) {
    if (job) job_free(job);
    napi_throw_error(env, NULL, "dumpEach: out of memory");
    return NULL;
  }
  memcpy(job->requests, req, req_len);
  memcpy(job->ends, ends, count * 4);
  job->count = count;
  job->protocol = protocol;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "lvsd:dumpEach", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, dump_execute, dump_complete, job, &job->work) != napi_ok) {
    job_free(job); // (a promise made here is never settled: the caller gets the exception instead)
    napi_throw_error(env, NULL, "dumpEach: cannot start the work");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    job_free(job);
    napi_throw_error(env, NULL, "dumpEach: cannot start the work");
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  CHECK(napi_create_function(env, "dumpEach", NAPI_AUTO_LENGTH, dump_each, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "dumpEach", f));
  return exports;
}

NAPI_MODULE(netlink_dumps, init)
