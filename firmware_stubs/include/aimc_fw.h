/* aimc_fw.h: the entry point of aimc firmware. Plain C11.
 *
 * A firmware program defines aimc_fw_main instead of main(). The same sources then run in both
 * modes, unchanged:
 *   - in the virtual platform's process (the runner, library aimc_fw_runner, builds the chip and
 *     calls aimc_fw_main with a HAL implemented on the chip's TLM sockets), and
 *   - as a plain C program against `aimc serve` (library aimc_fw_remote_main parses
 *     --connect ADDRESS, opens the remote HAL and calls aimc_fw_main).
 * argv[0] is the program name; argv[1..argc-1] are the firmware's own arguments (the runner's and
 * the remote main's options are removed). The return value is the process exit code. */
#ifndef AIMC_FW_H
#define AIMC_FW_H

#include "aimc_hal.h"

#ifdef __cplusplus
extern "C" {
#endif

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv);

#ifdef __cplusplus
}
#endif

#endif /* AIMC_FW_H */
