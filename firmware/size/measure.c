/* Size probe: built twice, with and without -DWITH_LIB. With it, every exported function
 * of the engine is kept (through a table the linker must keep); without it the same table
 * holds NULLs, so the difference of the two images is exactly what the engine adds. Run
 * under QEMU it prints omv_fw_storage_size(). */
#include <stdint.h>
#include "semihost.h"

#define EXPORTS(X)                                                                          \
    X(omv_fw_config_default) X(omv_fw_storage_size) X(omv_fw_storage_align) X(omv_fw_init)  \
    X(omv_fw_set_board) X(omv_fw_channel_register) X(omv_fw_channel_register_static)        \
    X(omv_fw_channel_unregister) X(omv_fw_rx_push) X(omv_fw_rx_space) X(omv_fw_poll)        \
    X(omv_fw_send_event) X(omv_fw_stats) X(omv_fw_stdin_register) X(omv_fw_stdout_register) \
    X(omv_fw_stream_register) X(omv_fw_stdin_take_command) X(omv_fw_stdin_script)           \
    X(omv_fw_stdin_set_running) X(omv_fw_stdout_write) X(omv_fw_stream_frame)               \
    X(omv_fw_stream_publish) X(omv_fw_stream_status)

typedef void (*any_fn)(void);

#ifdef WITH_LIB
#include "openmvproto_fw.h"
#define KEEP(f) (any_fn)(f),
#define STORAGE_SIZE() ((uint32_t)omv_fw_storage_size())
#else
#define KEEP(f) (any_fn)0,
#define STORAGE_SIZE() 0u
#endif

/* volatile: the compiler keeps every entry; main reads it, so the linker keeps the table
 * and, through it, every exported function. */
static any_fn const volatile every_export[] = { EXPORTS(KEEP) };

int main(void)
{
    (void)every_export[0];
    semihost_put_hex("storage_size=", STORAGE_SIZE());
    return 0;
}
