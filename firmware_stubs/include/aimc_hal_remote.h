/* aimc_hal_remote.h: the aimc HAL implemented over a local socket, for firmware that runs in its own
 * process against a chip served by `aimc serve --listen ADDRESS` (docs/remote-protocol.md).
 *
 * Unlike the rest of firmware_stubs/ (plain C11, C library only), the implementation
 * (src/aimc_hal_remote.c) needs POSIX sockets: it is a host-side HAL, built as the library
 * aimc_hal_remote, and it is not meant for the chip's own CPU.
 *
 *   aimc_hal_t hal;
 *   if (aimc_hal_remote_open("unix:/tmp/aimc.sock", &hal) != AIMC_HAL_OK) return 1;
 *   ... aimc_init(&dev, hal); ...            // the driver works unchanged
 *   aimc_hal_remote_close(&hal);
 *
 * DMA buffers: dma_alloc allocates in the VP's host memory (bus_addr) and a local shadow copy
 * (cpu). dma_sync moves the bytes: AIMC_DMA_TO_DEVICE sends the range to the VP, FROM_DEVICE
 * fetches it. Firmware that follows the HAL contract (sync before the chip reads, sync after it
 * wrote) therefore behaves as in process.
 *
 * Errors: once the connection is lost (server gone, protocol error), every call returns
 * AIMC_HAL_BUS_ERROR (dma_free only releases the local shadow); a message goes to stderr once.
 * Not thread-safe: one HAL handle per thread. */
#ifndef AIMC_HAL_REMOTE_H
#define AIMC_HAL_REMOTE_H

#include <stdint.h>

#include "aimc_hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* address: "unix:/path/to.sock" or "tcp:HOST:PORT" (the server listens on loopback only; an
 * address that starts with '/' is taken as a Unix socket path). Connects, checks the protocol
 * version (HELLO) and fills *hal. Returns AIMC_HAL_OK, or AIMC_HAL_BUS_ERROR with the reason on
 * stderr. */
int aimc_hal_remote_open(const char* address, aimc_hal_t* hal);

/* Says goodbye (BYE), closes the connection and frees the local shadows of the DMA buffers still
 * allocated (the server frees their host memory when the session ends). *hal is zeroed. Safe on
 * a HAL whose connection is already lost, and on a zeroed HAL. */
void aimc_hal_remote_close(aimc_hal_t* hal);

/* Asks the server to stop serving (SHUTDOWN) instead of waiting for the next client, then closes
 * as aimc_hal_remote_close does. Returns AIMC_HAL_OK when the server acknowledged it. */
int aimc_hal_remote_shutdown(aimc_hal_t* hal);

/* 1 when the connection of this HAL is lost (every call now fails), 0 while it is up. */
int aimc_hal_remote_lost(const aimc_hal_t* hal);

/* ---- Wire protocol (docs/remote-protocol.md); shared with the server, model/chip/remote_server.*
 * Every integer is little-endian. A request is {u32 op, u32 length, length bytes of payload};
 * a response is {i32 status, u32 length, length bytes of payload}. ---- */
#define AIMC_REMOTE_MAGIC 0x434D4941u /* the bytes "AIMC", as a little-endian u32 */
#define AIMC_REMOTE_VERSION 1u
#define AIMC_REMOTE_MAX_DATA (16u << 20) /* bytes of data in one DMA_WRITE or DMA_READ */

/* Opcodes. */
#define AIMC_REMOTE_OP_HELLO 1u     /* u32 magic, u32 version -> u32 version, u32 max_data */
#define AIMC_REMOTE_OP_READ32 2u    /* u32 offset -> u32 value */
#define AIMC_REMOTE_OP_WRITE32 3u   /* u32 offset, u32 value -> (nothing) */
#define AIMC_REMOTE_OP_DMA_ALLOC 4u /* u32 size -> u32 bus_addr, u32 size */
#define AIMC_REMOTE_OP_DMA_FREE 5u  /* u32 bus_addr -> (nothing) */
#define AIMC_REMOTE_OP_DMA_WRITE 6u /* u32 bus_addr, bytes -> (nothing) */
#define AIMC_REMOTE_OP_DMA_READ 7u  /* u32 bus_addr, u32 len -> len bytes */
#define AIMC_REMOTE_OP_WAIT_IRQ 8u  /* u64 timeout_ns -> (nothing); status OK or TIMEOUT */
#define AIMC_REMOTE_OP_SHUTDOWN 9u  /* -> (nothing); the server stops after this session (only
                                     * with `aimc serve --allow-shutdown`, else E_REFUSED) */
#define AIMC_REMOTE_OP_BYE 10u      /* -> (nothing); the server ends this session */

/* Response status: the HAL codes (AIMC_HAL_OK, AIMC_HAL_BUS_ERROR, AIMC_HAL_TIMEOUT,
 * AIMC_HAL_NO_MEMORY) and protocol errors. After UNKNOWN_OP, TOO_LONG and BAD_HELLO the server
 * closes the connection. */
#define AIMC_REMOTE_E_BAD_REQUEST (-16) /* wrong payload size or a bad argument (logged) */
#define AIMC_REMOTE_E_BAD_RANGE (-17)   /* DMA_WRITE/READ/FREE outside this client's buffers */
#define AIMC_REMOTE_E_UNKNOWN_OP (-18)  /* opcode not in the protocol; connection closed */
#define AIMC_REMOTE_E_TOO_LONG (-19)    /* length above the op's limit; connection closed */
#define AIMC_REMOTE_E_BAD_HELLO (-20)   /* first request not HELLO, bad magic or version; closed */
/* HELLO's payload: u32 magic, u32 version, then the shared secret's bytes when the server has one
 * (aimc serve --secret-file; the remote HAL sends the first line of $AIMC_REMOTE_SECRET_FILE). */
#define AIMC_REMOTE_MAX_SECRET 56u
#define AIMC_REMOTE_E_BUSY (-21)        /* answer to HELLO: another client is being served; closed */
#define AIMC_REMOTE_E_REFUSED (-22)     /* SHUTDOWN while the server does not allow it (logged) */

#ifdef __cplusplus
}
#endif

#endif /* AIMC_HAL_REMOTE_H */
