/* A sleepable hid_rdesc_fixup: allowed (hid_common.h). */
#define HID_SLEEPABLE_FIXUP
#include "hid_common.h"
