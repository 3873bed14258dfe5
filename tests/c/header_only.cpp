// Compile check: the header alone, as C++17 (extern "C" linkage, no C-only constructs).
#include "openmvproto.h"

static_assert(sizeof(omv_frame) > 0, "omv_frame is a complete type");

int omv_header_only_cpp();
int omv_header_only_cpp()
{
    omv_status s = OMV_STATUS_OK;
    omv_event_fn cb = nullptr;
    const char *v = OMV_VERSION_STRING;
    return static_cast<int>(s) + (cb == nullptr ? 0 : 1) + (v[0] == '0' ? 0 : 1);
}
