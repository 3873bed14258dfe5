/* Size probe of both roles (size/measure.sh: the device role; cam2cam/size.sh: the host
 * role and both): built with -DWITH_DEVICE (the device role's exports), -DWITH_HOST (the
 * host role's, needs -DOMV_FW_HOST) or both, every listed export kept through a table the
 * linker must keep; without either the table holds NULLs, so image differences are exactly
 * what the roles add. Run under QEMU it prints the storage sizes the C side must reserve. */
#include <stdint.h>
#include "semihost.h"

#define DEVICE_EXPORTS(X)                                                                   \
    X(omv_fw_config_default) X(omv_fw_storage_size) X(omv_fw_storage_align) X(omv_fw_init)  \
    X(omv_fw_set_board) X(omv_fw_channel_register) X(omv_fw_channel_register_static)        \
    X(omv_fw_channel_unregister) X(omv_fw_rx_push) X(omv_fw_rx_space) X(omv_fw_poll)        \
    X(omv_fw_send_event) X(omv_fw_stats) X(omv_fw_stdin_register) X(omv_fw_stdout_register) \
    X(omv_fw_stream_register) X(omv_fw_stdin_take_command) X(omv_fw_stdin_script)           \
    X(omv_fw_stdin_set_running) X(omv_fw_stdout_write) X(omv_fw_stream_frame)               \
    X(omv_fw_stream_publish) X(omv_fw_stream_status)

#define HOST_EXPORTS(X)                                                                       \
    X(omv_fw_host_config_default) X(omv_fw_host_storage_size) X(omv_fw_host_storage_align)    \
    X(omv_fw_host_max_payload) X(omv_fw_host_init) X(omv_fw_host_resync)                      \
    X(omv_fw_host_request) X(omv_fw_host_list) X(omv_fw_host_info) X(omv_fw_host_size)        \
    X(omv_fw_host_read) X(omv_fw_host_write) X(omv_fw_host_ioctl) X(omv_fw_host_lock)         \
    X(omv_fw_host_unlock) X(omv_fw_host_input) X(omv_fw_host_poll) X(omv_fw_host_busy)        \
    X(omv_fw_host_link_max_payload)

typedef void (*any_fn)(void);

#if defined(WITH_HOST) || defined(WITH_DEVICE)
#include "openmvproto_fw.h"
#endif
#define KEEP(f) (any_fn)(f),
#define NONE(f) (any_fn)0,

#ifdef WITH_DEVICE
#define DEV_ENTRY KEEP
#define DEVICE_STORAGE() ((uint32_t)omv_fw_storage_size())
#else
#define DEV_ENTRY NONE
#define DEVICE_STORAGE() 0u
#endif
#ifdef WITH_HOST
#define HOST_ENTRY KEEP
#define HOST_STORAGE() ((uint32_t)omv_fw_host_storage_size())
#else
#define HOST_ENTRY NONE
#define HOST_STORAGE() 0u
#endif

/* volatile: every entry is kept; main reads the table, so the linker keeps it. */
static any_fn const volatile every_export[] = { DEVICE_EXPORTS(DEV_ENTRY) HOST_EXPORTS(HOST_ENTRY) };

int main(void)
{
    (void)every_export[0];
    semihost_put_hex("device_storage=", DEVICE_STORAGE());
    semihost_put_hex("host_storage=", HOST_STORAGE());
    return 0;
}
