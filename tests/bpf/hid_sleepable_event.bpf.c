/* A sleepable hid_device_event: refused by hid_bpf_ops_check_member
 * (hid_common.h). */
#define HID_SLEEPABLE_EVENT
#include "hid_common.h"
