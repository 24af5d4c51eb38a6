package fuel

import "github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"

type (
	reader = wasmbin.Reader
	instr  = wasmbin.Instr
)

// ErrLegacyExceptions reports an instruction of the legacy
// exception-handling proposal (see wasmbin.ErrLegacyExceptions).
var ErrLegacyExceptions = wasmbin.ErrLegacyExceptions

var (
	appendU32     = wasmbin.AppendU32
	appendS32     = wasmbin.AppendS32
	appendSection = wasmbin.AppendSection
	lebLen        = wasmbin.LebLen
	splitBodies   = wasmbin.SplitBodies
	parseElements = wasmbin.ParseElements
)

// Opcodes the instrumentation looks at.
const (
	opUnreachable  = wasmbin.OpUnreachable
	opBlock        = wasmbin.OpBlock
	opLoop         = wasmbin.OpLoop
	opIf           = wasmbin.OpIf
	opElse         = wasmbin.OpElse
	opThrow        = wasmbin.OpThrow
	opThrowRef     = wasmbin.OpThrowRef
	opEnd          = wasmbin.OpEnd
	opBrTable      = wasmbin.OpBrTable
	opCall         = wasmbin.OpCall
	opCallIndirect = wasmbin.OpCallIndirect
	opReturnCall   = wasmbin.OpReturnCall
	opReturnCallI  = wasmbin.OpReturnCallI
	opCallRef      = wasmbin.OpCallRef
	opReturnCallR  = wasmbin.OpReturnCallR
	opLocalGet     = wasmbin.OpLocalGet
	opLocalSet     = wasmbin.OpLocalSet
	opLocalTee     = wasmbin.OpLocalTee
	opGlobalGet    = wasmbin.OpGlobalGet
	opGlobalSet    = wasmbin.OpGlobalSet
	opI32Const     = wasmbin.OpI32Const
	opBr           = wasmbin.OpBr
	opBrIf         = wasmbin.OpBrIf
	opI32Eqz       = 0x45
	opI32LtS       = 0x48
	opI32GtU       = 0x4b
	opI32LeU       = 0x4d
	opI32Add       = 0x6a
	opI32ShrU      = 0x76
	opI32Sub       = 0x6b
	opTryTable     = wasmbin.OpTryTable
	opPrefixFC     = wasmbin.OpPrefixFC
	opPrefixFD     = wasmbin.OpPrefixFD
	opPrefixFE     = wasmbin.OpPrefixFE
	fcMemoryCopy   = 10
	fcMemoryFill   = 11
	blockEmpty     = wasmbin.BlockEmpty
	typeI32        = wasmbin.TypeI32
	typeFunc       = wasmbin.TypeFunc
	typeRec        = wasmbin.TypeRec
)
