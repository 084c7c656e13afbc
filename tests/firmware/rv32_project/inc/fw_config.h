/* Found through aimc_add_firmware's INCLUDE_DIRS; rv32_cmake_test.sh edits it to check that a
 * header change rebuilds the ELF. */
#define FW_NAME "fw"
