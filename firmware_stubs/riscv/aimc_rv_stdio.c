/* aimc_rv_stdio.c: stdin, stdout and stderr of the RV32 firmware kit, on semihosting.
 *
 * picolibc 1.8's semihosting library (Debian's picolibc-riscv64-unknown-elf) makes stdin, stdout
 * and stderr one stream that moves every byte by its own SYS_WRITEC / SYS_READC call: the host
 * cannot tell stderr from stdout, and each byte costs a trap. Defining the three streams here
 * keeps that library's version out of the link (its iob.c is taken only for an undefined stdout)
 * and instead:
 *   - opens the console as the semihosting specification says: ":tt" in mode "r" (stdin), "w"
 *     (stdout) and, when the host's ":semihosting-features" lists STDOUT_STDERR, "a" (stderr;
 *     else stderr shares stdout's handle);
 *   - buffers a line (or AIMC_RV_STDIO_BUF bytes) per SYS_WRITE; stdout is flushed before
 *     stderr writes and before stdin reads, so the host sees the program's order line by line;
 *   - flushes both at exit (a destructor: picolibc's exit() runs them, it flushes no stream
 *     itself) and before an exception report (aimc_rv_on_exception).
 * When the host refuses ":tt", bytes go one by one by SYS_WRITEC / SYS_READC as before. */
#include <semihost.h>
#include <stdio.h>

#include "aimc_rv_internal.h"

#define AIMC_RV_STDIO_BUF 256

typedef struct {
  FILE file; /* first: the FILE* stdio hands back is this struct's address */
  int handle; /* -2: not opened yet; -1: the host refused ":tt" */
  int mode;   /* SH_OPEN_* for ":tt" */
  unsigned len;
  char buf[AIMC_RV_STDIO_BUF];
} console_t;

static int console_put(char c, FILE* f);
static int console_get(FILE* f);
static int console_flush(FILE* f);

static console_t g_in = {FDEV_SETUP_STREAM(NULL, console_get, NULL, _FDEV_SETUP_READ), -2,
                         SH_OPEN_R, 0, {0}};
static console_t g_out = {FDEV_SETUP_STREAM(console_put, NULL, console_flush, _FDEV_SETUP_WRITE),
                          -2, SH_OPEN_W, 0, {0}};
static console_t g_err = {FDEV_SETUP_STREAM(console_put, NULL, console_flush, _FDEV_SETUP_WRITE),
                          -2, SH_OPEN_A, 0, {0}};

FILE* const stdin = &g_in.file;
FILE* const stdout = &g_out.file;
FILE* const stderr = &g_err.file;

static int console_handle(console_t* con) {
  if (con->handle == -2) {
    if (con == &g_err && !sys_semihost_feature(SH_EXT_STDOUT_STDERR))
      con->handle = console_handle(&g_out); /* no separate stderr on this host */
    else
      con->handle = sys_semihost_open(":tt", con->mode);
    if (con->handle < 0) con->handle = -1;
  }
  return con->handle;
}

static int drain(console_t* con) {
  const unsigned len = con->len;
  con->len = 0;
  if (len == 0) return 0;
  if (console_handle(con) < 0) {
    unsigned i;
    for (i = 0; i < len; ++i) sys_semihost_putc(con->buf[i], &con->file);
    return 0;
  }
  /* SYS_WRITE returns the bytes it did not write. */
  return sys_semihost_write(con->handle, con->buf, len) == 0 ? 0 : EOF;
}

static int console_flush(FILE* f) { return drain((console_t*)f); }

static int console_put(char c, FILE* f) {
  console_t* con = (console_t*)f;
  if (con == &g_err && g_out.len) (void)drain(&g_out);
  con->buf[con->len++] = c;
  if (c == '\n' || con->len == sizeof con->buf) {
    if (drain(con) != 0) return EOF;
  }
  return (unsigned char)c;
}

static int console_get(FILE* f) {
  console_t* con = (console_t*)f;
  unsigned char c;
  (void)drain(&g_out);
  (void)drain(&g_err);
  if (console_handle(con) < 0) return sys_semihost_getc(f);
  /* SYS_READ returns the bytes it did not read: all of them at the end of the input. */
  if (sys_semihost_read(con->handle, &c, 1) != 0) return _FDEV_EOF;
  return c;
}

void aimc_rv_stdio_flush(void) {
  (void)drain(&g_out);
  (void)drain(&g_err);
}

__attribute__((destructor)) static void flush_at_exit(void) { aimc_rv_stdio_flush(); }
