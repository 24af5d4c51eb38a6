package guest

import (
	"sync/atomic"
	"unsafe"
)

// The guest's words are little-endian and 4-aligned; every platform wazero's
// compiler supports (amd64, arm64) is little-endian, so a native atomic on the
// word is the guest's view of it.

func word(b []byte) *uint32 { return (*uint32)(unsafe.Pointer(unsafe.SliceData(b))) }

func atomicStore32(b []byte, v uint32) { atomic.StoreUint32(word(b), v) }

func atomicLoad32(b []byte) uint32 { return atomic.LoadUint32(word(b)) }

func atomicOr32(b []byte, v uint32) { atomic.OrUint32(word(b), v) }
