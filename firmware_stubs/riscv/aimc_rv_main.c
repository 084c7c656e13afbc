/* aimc_rv_main.c: main() of firmware on the RV32 core: the arguments from the semihosting
 * command line, then aimc_fw_main(aimc_hal_rv32(), argc, argv); its return value is the exit
 * code, which picolibc's exit() hands to the host (SYS_EXIT_EXTENDED).
 *
 * The command line is read here rather than taken from picolibc's crt0, whose splitting changed
 * between releases (1.8, Debian 12's, puts "program-name" in argv[0] and the whole command line
 * from argv[1] on; later releases put its first word in argv[0]) and which allows no spaces in an
 * argument. Here, as SYS_GET_CMDLINE is specified (the command line of the program, its name
 * first): words are separated by spaces or tabs; inside "double quotes" spaces are kept; a
 * backslash before " or \ stands for that character. argv[0] is the first word. */
#include <semihost.h>
#include <stdio.h>

#include "aimc_fw.h"
#include "aimc_hal_rv32.h"

#define AIMC_RV_CMDLINE_BYTES 8192 /* the longest command line, with its terminating NUL */
#define AIMC_RV_MAX_ARGS 255

static char g_cmdline[AIMC_RV_CMDLINE_BYTES];
static char* g_argv[AIMC_RV_MAX_ARGS + 1];

/* Splits g_cmdline in place into g_argv. Returns argc (0 for an empty command line), or -1 when
 * it has more than AIMC_RV_MAX_ARGS words or an unterminated quote (said on stderr). */
static int split_cmdline(void) {
  char *in = g_cmdline, *out = g_cmdline;
  int argc = 0;
  for (;;) {
    int quoted = 0;
    while (*in == ' ' || *in == '\t') ++in;
    if (!*in) break;
    if (argc == AIMC_RV_MAX_ARGS) {
      fprintf(stderr, "aimc_rv: the command line has more than %d arguments\n", AIMC_RV_MAX_ARGS);
      return -1;
    }
    g_argv[argc++] = out;
    while (*in && (quoted || (*in != ' ' && *in != '\t'))) {
      if (*in == '"') {
        quoted = !quoted;
        ++in;
      } else if (*in == '\\' && (in[1] == '"' || in[1] == '\\')) {
        *out++ = in[1];
        in += 2;
      } else {
        *out++ = *in++;
      }
    }
    if (quoted) {
      fprintf(stderr, "aimc_rv: the command line has an unterminated \" in argument %d\n",
              argc - 1);
      return -1;
    }
    /* out never passes in: the terminator lands on a separator already read, or on the end. */
    if (*in) ++in;
    *out++ = '\0';
  }
  g_argv[argc] = NULL;
  return argc;
}

int main(int argc, char** argv) {
  int n;
  if (sys_semihost_get_cmdline(g_cmdline, (int)sizeof g_cmdline) != 0) {
    fprintf(stderr, "aimc_rv: the host gave no command line (SYS_GET_CMDLINE failed: longer than "
                    "%d bytes, or not supported)\n", AIMC_RV_CMDLINE_BYTES - 1);
    return 2;
  }
  g_cmdline[sizeof g_cmdline - 1] = '\0';
  n = split_cmdline();
  if (n < 0) return 2;
  if (n > 0) {
    argc = n;
    argv = g_argv;
  } /* else an empty command line: crt0's argv, a program name only */
  return aimc_fw_main(aimc_hal_rv32(), argc, argv);
}
