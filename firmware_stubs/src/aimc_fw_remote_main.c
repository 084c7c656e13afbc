/* aimc_fw_remote_main.c: main() for firmware that runs in its own process against `aimc serve`
 * (library aimc_fw_remote_main; the firmware defines aimc_fw_main, see aimc_fw.h).
 *
 *   <firmware> [--connect ADDRESS] [--shutdown] [--] [firmware args...]
 *
 * ADDRESS defaults to $AIMC_REMOTE, else unix:/tmp/aimc.sock. Options are read only at the start
 * of the command line; the first other argument, or `--`, ends them and the rest goes to the
 * firmware (argv[0] stays the program name). Exit code: the firmware's return value; 2 for a bad
 * option; 1 when the server cannot be reached, or when the connection was lost while the
 * firmware ran and it still returned 0. Host-side code: needs POSIX (through aimc_hal_remote). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_fw.h"
#include "aimc_hal_remote.h"

static void usage(const char* prog, FILE* out) {
  fprintf(out,
          "usage: %s [--connect ADDRESS] [--shutdown] [--] [firmware args...]\n"
          "Runs this firmware against a chip served by `aimc serve --listen ADDRESS`.\n"
          "  --connect ADDRESS  unix:/path/to.sock or tcp:127.0.0.1:PORT (default: $AIMC_REMOTE,\n"
          "                     else unix:/tmp/aimc.sock)\n"
          "  --shutdown         when the firmware returns, ask the server to stop too\n"
          "  --                 end of these options; the rest goes to the firmware\n",
          prog);
}

int main(int argc, char** argv) {
  const char* prog = argc > 0 ? argv[0] : "firmware";
  const char* env = getenv("AIMC_REMOTE");
  const char* address = env && *env ? env : "unix:/tmp/aimc.sock";
  int shutdown = 0, i = 1, rc, fw_argc;
  char** fw_argv;
  aimc_hal_t hal;

  for (; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "--") == 0) {
      ++i;
      break;
    } else if (strcmp(a, "--connect") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --connect needs an address (see %s --help)\n", prog, prog);
        return 2;
      }
      address = argv[++i];
    } else if (strncmp(a, "--connect=", 10) == 0) {
      address = a + 10;
    } else if (strcmp(a, "--shutdown") == 0) {
      shutdown = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(prog, stdout);
      return 0;
    } else {
      break; /* the firmware's arguments start here */
    }
  }

  /* argv for the firmware: the program name, then what is left. */
  fw_argc = 1 + (argc - i);
  fw_argv = (char**)calloc((size_t)fw_argc + 1, sizeof *fw_argv);
  if (!fw_argv) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return 1;
  }
  fw_argv[0] = argv[0];
  if (argc > i) memcpy(fw_argv + 1, argv + i, (size_t)(argc - i) * sizeof *fw_argv);

  if (aimc_hal_remote_open(address, &hal) != AIMC_HAL_OK) {
    fprintf(stderr, "%s: cannot reach the chip at %s\n", prog, address);
    free(fw_argv);
    return 1;
  }
  rc = aimc_fw_main(hal, fw_argc, fw_argv);
  if (aimc_hal_remote_lost(&hal)) {
    fprintf(stderr, "%s: the connection to %s was lost while the firmware ran\n", prog, address);
    if (rc == 0) rc = 1;
  }
  if (shutdown) {
    if (aimc_hal_remote_shutdown(&hal) != AIMC_HAL_OK)
      fprintf(stderr, "%s: the server did not acknowledge SHUTDOWN\n", prog);
  } else {
    aimc_hal_remote_close(&hal);
  }
  free(fw_argv);
  return rc;
}
