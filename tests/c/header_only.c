/* Compile check: the header alone, as strict C99. */
#include "openmvproto.h"

static const char version[] = OMV_VERSION_STRING;

int omv_header_only_c(void);
int omv_header_only_c(void)
{
    omv_status s = OMV_STATUS_OK;
    return (int)s + (int)sizeof(omv_options) + (int)sizeof version + OMV_VERSION_MAJOR;
}
