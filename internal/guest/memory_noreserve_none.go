//go:build freebsd || openbsd || dragonfly || aix

package guest

// mapNoReserve is zero where the platform has no MAP_NORESERVE (FreeBSD,
// OpenBSD, DragonFly, AIX). The reservation still works: it is PROT_NONE
// until committed, and only the overcommit accounting differs.
const mapNoReserve = 0
