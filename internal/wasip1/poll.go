package wasip1

import (
	"context"
	"math"
	"time"
)

// pollOneoff: fd subscriptions are ready at once (there is no blocking I/O
// in a sandbox; an fd that is not open is an EBADF event); clock
// subscriptions sleep until the earliest deadline, relative or absolute,
// through Config.Sleep, which returns early when the host interrupts the
// guest.
func pollOneoff(ctx context.Context, in *Instance, mem []byte, p []uint64) Errno {
	nsubs := u32(p[2])
	if nsubs == 0 || nsubs > 1<<16 {
		return EINVAL
	}
	subs, ok := slice(mem, u32(p[0]), nsubs*subscriptionSize)
	if !ok {
		return EFAULT
	}
	out, ok := slice(mem, u32(p[1]), nsubs*eventSize)
	if !ok {
		return EFAULT
	}
	if _, ok := slice(mem, u32(p[3]), 4); !ok {
		return EFAULT
	}
	// The subscriptions are read before any event is written: the two may
	// overlap in a hostile guest.
	subs = append([]byte(nil), subs...)
	type clockSub struct {
		userdata uint64
		wait     time.Duration
	}
	var clocks []clockSub
	nevents := 0
	writeEvent := func(userdata uint64, errno Errno, typ byte) {
		ev := out[nevents*eventSize : (nevents+1)*eventSize]
		clear(ev)
		le.PutUint64(ev, userdata)
		le.PutUint16(ev[8:], uint16(errno))
		ev[10] = typ
		nevents++
	}
	minWait := time.Duration(math.MaxInt64)
	for k := uint64(0); k < nsubs; k++ {
		s := subs[k*subscriptionSize : (k+1)*subscriptionSize]
		userdata, typ := le.Uint64(s), s[8]
		switch typ {
		case eventTypeClock:
			id, flags := le.Uint32(s[16:]), le.Uint16(s[40:])
			timeout := int64(min(le.Uint64(s[24:]), math.MaxInt64)) // "forever" is not the past
			wait := time.Duration(timeout)
			if flags&subscriptionClockAbstime != 0 {
				switch id {
				case clockRealtime:
					wait = time.Duration(timeout - in.walltime())
				case clockMonotonic:
					wait = time.Duration(timeout - in.nanotime())
				default:
					return EINVAL
				}
			} else if id != clockRealtime && id != clockMonotonic {
				return EINVAL
			}
			minWait = min(minWait, wait)
			clocks = append(clocks, clockSub{userdata, wait})
		case eventTypeFdRead, eventTypeFdWrite:
			var errno Errno
			if _, e := in.lookup(le.Uint32(s[16:])); e != 0 {
				errno = e
			}
			writeEvent(userdata, errno, typ)
		default:
			return EINVAL
		}
	}
	if in.cfg.Yield != nil {
		in.cfg.Yield(ctx)
	}
	if nevents == 0 && len(clocks) > 0 && minWait > 0 {
		in.sleep(ctx, minWait)
	}
	// After a sleep every clock due by then fires; with fd events there was
	// no sleep, and only the clocks already due fire.
	slept := nevents == 0
	for _, c := range clocks {
		if c.wait <= 0 || (slept && c.wait <= minWait) {
			writeEvent(c.userdata, 0, eventTypeClock)
		}
	}
	putU32(mem, u32(p[3]), uint32(nevents))
	return 0
}

func (in *Instance) sleep(ctx context.Context, d time.Duration) {
	if in.cfg.Sleep != nil {
		in.cfg.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
