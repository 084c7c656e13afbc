/* aimc_hal_remote.c: the aimc HAL over a socket to `aimc serve` (see aimc_hal_remote.h and
 * docs/remote-protocol.md). Host-side code: needs POSIX sockets, unlike the rest of
 * firmware_stubs/. */
#define _POSIX_C_SOURCE 200809L

#include "aimc_hal_remote.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* BSD/macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

/* A DMA buffer this client allocated: the shadow `cpu` and the server's bus address. */
typedef struct remote_buf {
  void* cpu;
  uint32_t bus_addr;
  size_t size;
  struct remote_buf* next;
} remote_buf_t;

typedef struct remote_ctx {
  int fd;
  int lost;
  uint32_t max_data;
  remote_buf_t* bufs;
} remote_ctx_t;

/* ---- Little-endian encoding, independent of the host's byte order ---- */
static void put_u32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static void put_u64(uint8_t* p, uint64_t v) {
  put_u32(p, (uint32_t)v);
  put_u32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get_u32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- Connection ---- */
static void mark_lost(remote_ctx_t* c, const char* why) {
  if (c->lost) return;
  c->lost = 1;
  fprintf(stderr, "aimc_hal_remote: connection lost (%s); every HAL call now fails\n", why);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

static int send_all(remote_ctx_t* c, const void* data, size_t len) {
  const uint8_t* p = (const uint8_t*)data;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      mark_lost(c, n < 0 ? strerror(errno) : "send returned 0");
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int recv_all(remote_ctx_t* c, void* data, size_t len) {
  uint8_t* p = (uint8_t*)data;
  while (len > 0) {
    ssize_t n = recv(c->fd, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      mark_lost(c, n < 0 ? strerror(errno) : "the server closed the connection");
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Discards n bytes of an unexpected response payload. */
static int skip(remote_ctx_t* c, uint32_t n) {
  uint8_t tmp[256];
  while (n > 0) {
    const uint32_t k = n < sizeof tmp ? n : (uint32_t)sizeof tmp;
    if (recv_all(c, tmp, k) != 0) return -1;
    n -= k;
  }
  return 0;
}

/* One round trip. The request payload is head (head_len bytes) followed by data (data_len bytes).
 * The response payload goes to out when its length is exactly out_len; any other length with an
 * OK status is a protocol error. Returns the response status, or AIMC_HAL_BUS_ERROR when the
 * connection is (or gets) lost. Protocol error codes are passed through for the caller to map. */
static int call(remote_ctx_t* c, uint32_t op, const uint8_t* head, uint32_t head_len,
                const void* data, uint32_t data_len, void* out, uint32_t out_len) {
  uint8_t hdr[8];
  int32_t status;
  uint32_t len;
  if (!c || c->lost) return AIMC_HAL_BUS_ERROR;
  put_u32(hdr, op);
  put_u32(hdr + 4, head_len + data_len);
  if (send_all(c, hdr, sizeof hdr) != 0 || (head_len && send_all(c, head, head_len) != 0) ||
      (data_len && send_all(c, data, data_len) != 0))
    return AIMC_HAL_BUS_ERROR;
  if (recv_all(c, hdr, sizeof hdr) != 0) return AIMC_HAL_BUS_ERROR;
  status = (int32_t)get_u32(hdr);
  len = get_u32(hdr + 4);
  if (status == AIMC_HAL_OK && len == out_len) {
    if (out_len && recv_all(c, out, out_len) != 0) return AIMC_HAL_BUS_ERROR;
    return AIMC_HAL_OK;
  }
  if (status == AIMC_HAL_OK || len > AIMC_REMOTE_MAX_DATA) {
    mark_lost(c, "malformed response from the server");
    return AIMC_HAL_BUS_ERROR;
  }
  if (skip(c, len) != 0) return AIMC_HAL_BUS_ERROR;
  if (status == AIMC_REMOTE_E_UNKNOWN_OP || status == AIMC_REMOTE_E_TOO_LONG ||
      status == AIMC_REMOTE_E_BAD_HELLO || status == AIMC_REMOTE_E_BUSY) {
    mark_lost(c, "the server refused a request and closed the connection");
    /* HELLO's refusals reach aimc_hal_remote_open, which says why; others are a bus error. */
    return op == AIMC_REMOTE_OP_HELLO ? status : AIMC_HAL_BUS_ERROR;
  }
  return status;
}

/* HAL codes pass through; protocol errors become a bus error. */
static int hal_status(int s) {
  return (s == AIMC_HAL_OK || s == AIMC_HAL_BUS_ERROR || s == AIMC_HAL_TIMEOUT ||
          s == AIMC_HAL_NO_MEMORY)
             ? s
             : AIMC_HAL_BUS_ERROR;
}

/* ---- HAL operations ---- */
static int op_read32(void* ctx, uint32_t offset, uint32_t* value) {
  uint8_t req[4], resp[4];
  int s;
  if (!value) return AIMC_HAL_BUS_ERROR;
  put_u32(req, offset);
  s = call((remote_ctx_t*)ctx, AIMC_REMOTE_OP_READ32, req, 4, NULL, 0, resp, 4);
  if (s == AIMC_HAL_OK) *value = get_u32(resp);
  return hal_status(s);
}

static int op_write32(void* ctx, uint32_t offset, uint32_t value) {
  uint8_t req[8];
  put_u32(req, offset);
  put_u32(req + 4, value);
  return hal_status(call((remote_ctx_t*)ctx, AIMC_REMOTE_OP_WRITE32, req, 8, NULL, 0, NULL, 0));
}

static int op_dma_alloc(void* ctx, size_t size, aimc_dma_buf_t* buf) {
  remote_ctx_t* c = (remote_ctx_t*)ctx;
  remote_buf_t* rb;
  uint8_t req[4], resp[8];
  int s;
  if (!c || !buf) return AIMC_HAL_BUS_ERROR;
  memset(buf, 0, sizeof *buf);
  if (c->lost) return AIMC_HAL_BUS_ERROR;
  if (size == 0 || size > 0xFFFFFFFFu) return AIMC_HAL_NO_MEMORY;
  rb = (remote_buf_t*)calloc(1, sizeof *rb);
  if (!rb) return AIMC_HAL_NO_MEMORY;
  rb->cpu = calloc(1, size); /* zeroed, as the VP's fresh host memory reads */
  if (!rb->cpu) {
    free(rb);
    return AIMC_HAL_NO_MEMORY;
  }
  put_u32(req, (uint32_t)size);
  s = call(c, AIMC_REMOTE_OP_DMA_ALLOC, req, 4, NULL, 0, resp, 8);
  if (s != AIMC_HAL_OK) {
    free(rb->cpu);
    free(rb);
    return hal_status(s);
  }
  rb->bus_addr = get_u32(resp);
  rb->size = size;
  rb->next = c->bufs;
  c->bufs = rb;
  buf->cpu = rb->cpu;
  buf->bus_addr = rb->bus_addr;
  buf->size = size;
  return AIMC_HAL_OK;
}

/* The buffer record whose shadow is cpu, unlinked from the list when unlink is set. */
static remote_buf_t* find_buf(remote_ctx_t* c, const void* cpu, int unlink) {
  remote_buf_t** pp = &c->bufs;
  for (; *pp; pp = &(*pp)->next) {
    if ((*pp)->cpu == cpu) {
      remote_buf_t* b = *pp;
      if (unlink) *pp = b->next;
      return b;
    }
  }
  return NULL;
}

static void op_dma_free(void* ctx, aimc_dma_buf_t* buf) {
  remote_ctx_t* c = (remote_ctx_t*)ctx;
  remote_buf_t* rb;
  if (!c || !buf || !buf->cpu) return;
  rb = find_buf(c, buf->cpu, 1);
  if (!rb) return; /* not ours (or freed twice): leave it alone */
  if (!c->lost) {
    uint8_t req[4];
    put_u32(req, rb->bus_addr);
    (void)call(c, AIMC_REMOTE_OP_DMA_FREE, req, 4, NULL, 0, NULL, 0);
  }
  free(rb->cpu);
  free(rb);
  memset(buf, 0, sizeof *buf);
}

static int op_dma_sync(void* ctx, aimc_dma_buf_t* buf, size_t offset, size_t len, int dir) {
  remote_ctx_t* c = (remote_ctx_t*)ctx;
  remote_buf_t* rb;
  uint8_t* base;
  size_t done = 0;
  if (!c || c->lost || !buf || !buf->cpu) return AIMC_HAL_BUS_ERROR;
  rb = find_buf(c, buf->cpu, 0);
  if (!rb || offset > rb->size || len > rb->size - offset) return AIMC_HAL_BUS_ERROR;
  if (dir != AIMC_DMA_TO_DEVICE && dir != AIMC_DMA_FROM_DEVICE) return AIMC_HAL_BUS_ERROR;
  base = (uint8_t*)rb->cpu + offset;
  while (done < len) {
    const uint32_t chunk =
        (uint32_t)(len - done < c->max_data ? len - done : c->max_data);
    const uint32_t addr = rb->bus_addr + (uint32_t)(offset + done);
    uint8_t req[8];
    int s;
    put_u32(req, addr);
    if (dir == AIMC_DMA_TO_DEVICE) {
      s = call(c, AIMC_REMOTE_OP_DMA_WRITE, req, 4, base + done, chunk, NULL, 0);
    } else {
      put_u32(req + 4, chunk);
      s = call(c, AIMC_REMOTE_OP_DMA_READ, req, 8, NULL, 0, base + done, chunk);
    }
    if (s != AIMC_HAL_OK) return hal_status(s);
    done += chunk;
  }
  return AIMC_HAL_OK;
}

static int op_wait_irq(void* ctx, uint64_t timeout_ns) {
  uint8_t req[8];
  put_u64(req, timeout_ns);
  return hal_status(call((remote_ctx_t*)ctx, AIMC_REMOTE_OP_WAIT_IRQ, req, 8, NULL, 0, NULL, 0));
}

static const aimc_hal_ops_t remote_ops = {op_read32,   op_write32,  op_dma_alloc,
                                          op_dma_free, op_dma_sync, op_wait_irq};

/* ---- Opening and closing ---- */
static int connect_unix(const char* path) {
  struct sockaddr_un sa;
  int fd;
  if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path) {
    fprintf(stderr, "aimc_hal_remote: unix socket path '%s' is empty or longer than %u bytes\n",
            path, (unsigned)(sizeof sa.sun_path - 1));
    return -1;
  }
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    fprintf(stderr, "aimc_hal_remote: socket: %s\n", strerror(errno));
    return -1;
  }
  if (connect(fd, (const struct sockaddr*)&sa, sizeof sa) != 0) {
    fprintf(stderr, "aimc_hal_remote: cannot connect to unix:%s: %s (is `aimc serve` running?)\n",
            path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int connect_tcp(const char* hostport) {
  char host[256];
  const char* colon = strrchr(hostport, ':');
  const char* port;
  struct addrinfo hints, *res = NULL, *ai;
  size_t hlen;
  int fd = -1, rc, one = 1;
  if (!colon || colon == hostport || colon[1] == '\0') {
    fprintf(stderr, "aimc_hal_remote: tcp address '%s': expected HOST:PORT\n", hostport);
    return -1;
  }
  hlen = (size_t)(colon - hostport);
  if (hostport[0] == '[' && hlen >= 2 && hostport[hlen - 1] == ']') { /* [::1]:PORT */
    ++hostport;
    hlen -= 2;
  }
  if (hlen >= sizeof host) {
    fprintf(stderr, "aimc_hal_remote: tcp host name too long\n");
    return -1;
  }
  memcpy(host, hostport, hlen);
  host[hlen] = '\0';
  port = colon + 1;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "aimc_hal_remote: tcp address '%s:%s': %s\n", host, port, gai_strerror(rc));
    return -1;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  if (fd < 0)
    fprintf(stderr, "aimc_hal_remote: cannot connect to tcp:%s:%s: %s (is `aimc serve` running?)\n",
            host, port, strerror(errno));
  else
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small requests */
  freeaddrinfo(res);
  return fd;
}

/* The shared secret from the file named by $AIMC_REMOTE_SECRET_FILE (its first line), into
 * out[0..*len). 0: none asked for or read; -1: the file cannot be read or the secret is empty or
 * longer than AIMC_REMOTE_MAX_SECRET (said on stderr). */
static int read_secret(uint8_t* out, uint32_t* len) {
  const char* path = getenv("AIMC_REMOTE_SECRET_FILE");
  char line[AIMC_REMOTE_MAX_SECRET + 3];
  FILE* f;
  size_t n;
  *len = 0;
  if (!path || !*path) return 0;
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "aimc_hal_remote: AIMC_REMOTE_SECRET_FILE %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  fclose(f);
  n = strcspn(line, "\r\n");
  if (n == 0 || n > AIMC_REMOTE_MAX_SECRET) {
    fprintf(stderr, "aimc_hal_remote: AIMC_REMOTE_SECRET_FILE %s: the secret (its first line) must be 1 to %u bytes\n",
            path, AIMC_REMOTE_MAX_SECRET);
    return -1;
  }
  memcpy(out, line, n);
  *len = (uint32_t)n;
  return 0;
}

int aimc_hal_remote_open(const char* address, aimc_hal_t* hal) {
  remote_ctx_t* c;
  uint8_t req[8 + AIMC_REMOTE_MAX_SECRET], resp[8];
  uint32_t secret_len = 0;
  int fd, s;
  if (!hal) return AIMC_HAL_BUS_ERROR;
  memset(hal, 0, sizeof *hal);
  if (!address) {
    fprintf(stderr, "aimc_hal_remote: no address given\n");
    return AIMC_HAL_BUS_ERROR;
  }
  if (strncmp(address, "unix:", 5) == 0) {
    fd = connect_unix(address + 5);
  } else if (address[0] == '/') {
    fd = connect_unix(address);
  } else if (strncmp(address, "tcp:", 4) == 0) {
    fd = connect_tcp(address + 4);
  } else {
    fprintf(stderr,
            "aimc_hal_remote: address '%s': expected unix:/path/to.sock or tcp:127.0.0.1:PORT\n",
            address);
    return AIMC_HAL_BUS_ERROR;
  }
  if (fd < 0) return AIMC_HAL_BUS_ERROR;
  if (read_secret(req + 8, &secret_len) != 0) {
    close(fd);
    return AIMC_HAL_BUS_ERROR;
  }
#ifdef SO_NOSIGPIPE
  {
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
  }
#endif
  c = (remote_ctx_t*)calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return AIMC_HAL_NO_MEMORY;
  }
  c->fd = fd;
  c->max_data = AIMC_REMOTE_MAX_DATA;
  put_u32(req, AIMC_REMOTE_MAGIC);
  put_u32(req + 4, AIMC_REMOTE_VERSION);
  s = call(c, AIMC_REMOTE_OP_HELLO, req, 8 + secret_len, NULL, 0, resp, 8);
  if (s != AIMC_HAL_OK || get_u32(resp) != AIMC_REMOTE_VERSION || get_u32(resp + 4) == 0) {
    if (s == AIMC_REMOTE_E_BUSY)
      fprintf(stderr, "aimc_hal_remote: %s: the server is busy with another client; try again when it is done\n",
              address);
    else if (s == AIMC_REMOTE_E_BAD_HELLO)
      fprintf(stderr, "aimc_hal_remote: %s: the server refused HELLO (protocol version %u%s)\n", address,
              AIMC_REMOTE_VERSION,
              secret_len ? ", with the secret of AIMC_REMOTE_SECRET_FILE" : "; it may want a shared secret: set AIMC_REMOTE_SECRET_FILE");
    else
      fprintf(stderr, "aimc_hal_remote: %s: the server did not accept HELLO (protocol version %u)\n",
              address, AIMC_REMOTE_VERSION);
    if (c->fd >= 0) close(c->fd);
    free(c);
    return AIMC_HAL_BUS_ERROR;
  }
  if (get_u32(resp + 4) < c->max_data) c->max_data = get_u32(resp + 4);
  hal->ops = &remote_ops;
  hal->ctx = c;
  return AIMC_HAL_OK;
}

static void finish(aimc_hal_t* hal, uint32_t op, int* status) {
  remote_ctx_t* c;
  remote_buf_t* b;
  if (!hal || hal->ops != &remote_ops || !hal->ctx) return;
  c = (remote_ctx_t*)hal->ctx;
  *status = call(c, op, NULL, 0, NULL, 0, NULL, 0);
  if (c->fd >= 0) close(c->fd);
  for (b = c->bufs; b;) {
    remote_buf_t* next = b->next;
    free(b->cpu);
    free(b);
    b = next;
  }
  free(c);
  memset(hal, 0, sizeof *hal);
}

void aimc_hal_remote_close(aimc_hal_t* hal) {
  int status;
  finish(hal, AIMC_REMOTE_OP_BYE, &status);
}

int aimc_hal_remote_shutdown(aimc_hal_t* hal) {
  int status = AIMC_HAL_BUS_ERROR;
  finish(hal, AIMC_REMOTE_OP_SHUTDOWN, &status);
  return hal_status(status);
}

int aimc_hal_remote_lost(const aimc_hal_t* hal) {
  if (!hal || hal->ops != &remote_ops || !hal->ctx) return 1;
  return ((const remote_ctx_t*)hal->ctx)->lost;
}
