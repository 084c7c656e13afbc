/* The firmware of tests/firmware/rv32_project: prints its arguments and the chip's ID. */
#include <stdio.h>

#include "aimc_fw.h"
#include "fw_config.h"

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  uint32_t id = 0;
  int i;
  for (i = 0; i < argc; ++i) printf(FW_NAME " argv[%d] = %s\n", i, argv[i]);
  if (hal.ops->read32(hal.ctx, 0, &id) != AIMC_HAL_OK) return 1;
  printf(FW_NAME ": ID 0x%08X\n", (unsigned)id);
  return 0;
}
