package network

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// DevDir is the guest directory through which a guest makes requests (see
// Device).
const DevDir = "/dev/wasmbox/net"

// errInterrupted replaces the error of a request whose cell ended or was
// interrupted: the guest waits for the interrupt rather than reporting it.
var errInterrupted = errors.New(Interrupted)

// Interrupted is the reason a guest reads when its request ended because
// the cell was interrupted (timeout, cancellation, stop) or ended; the
// interrupt itself reaches the guest in its usual way right after.
const Interrupted = "the cell was interrupted"

// maxPreamble bounds the JSON line before a request.
const maxPreamble = 64 << 10

// Device lets one guest instance at a time make HTTP requests through a
// Client, with no new import: the guest writes a request to a file under
// DevDir and reads the response from the same name.
//
//  1. The guest writes, to DevDir/NAME (any name without '/'), a JSON line
//     {"base": "https://host:port", "timeout": seconds} followed by an
//     HTTP/1.1 request in wire format ("GET /path HTTP/1.1", headers, body
//     with Content-Length or chunked), and closes the file.
//  2. The guest opens DevDir/NAME for reading: the host makes the request
//     (the open blocks until the response head arrives) and the file reads
//     as one JSON line — {"status", "reason", "url", "headers": [[k, v]...]},
//     or {"error", "kind"} with kind "refused", "limit" or "failed" — then,
//     for a response, its head in HTTP/1.1 wire format (with
//     "Connection: close" and without Transfer-Encoding) and its body as it
//     arrives.
//  3. If reading the body fails (a limit, a timeout), the read fails with
//     EIO and DevDir/NAME.error reads as the reason.
//
// A request belongs to the cell that made it: requests are only made
// between Begin and the function it returns, and are cancelled when the
// cell ends, is interrupted (its ctx ends) or is hard-stopped.
//
// WrapWASI puts DevDir in front of a guest's root file system (as
// wasmbox's WASI preview 1, internal/wasip1, sees it).
type Device struct {
	cl   *Client
	mu   sync.Mutex
	cell *cellState
}

type cellState struct {
	ctx      context.Context
	sess     *Session
	requests map[string]*exchange
	// What the cell's requests hold before they are sent, at most
	// maxBuffered: requests being written and written but not read.
	writers  map[*reqFile]struct{}
	buffered int64
}

// maxEntries bounds the requests a cell keeps (answered ones keep their
// head until the guest removes them or the cell ends).
func (cs *cellState) maxEntries() int { return 2 * cs.sess.cl.p.MaxRequests }

// maxBuffered bounds the bytes of requests not yet sent, across a cell.
func (cs *cellState) maxBuffered() int64 { return 2 * (cs.sess.cl.p.MaxRequestBytes + maxPreamble) }

type exchange struct {
	req     []byte
	started bool
	head    []byte
	body    io.ReadCloser
	errText string
}

// NewDevice returns a Device that makes its requests with cl.
func NewDevice(cl *Client) *Device { return &Device{cl: cl} }

// Begin opens the device for one cell: its requests are counted in a new
// Session and end when ctx ends, when stop is closed or when the returned
// function is called (at the end of the cell).
func (d *Device) Begin(ctx context.Context, stop <-chan struct{}) (end func()) {
	cctx, cancel := context.WithCancel(ctx)
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-cctx.Done():
			}
		}()
	}
	cs := &cellState{ctx: cctx, sess: d.cl.NewSession(), requests: map[string]*exchange{}, writers: map[*reqFile]struct{}{}}
	d.mu.Lock()
	d.cell = cs
	d.mu.Unlock()
	return func() {
		cancel()
		d.mu.Lock()
		if d.cell == cs {
			d.cell = nil
		}
		for w := range cs.writers { // left open by the guest: their bytes go now
			w.buf, w.cs = bytes.Buffer{}, nil
		}
		cs.writers, cs.buffered = nil, 0
		bodies := make([]io.Closer, 0, len(cs.requests))
		for _, ex := range cs.requests {
			ex.req = nil
			if ex.body != nil {
				bodies = append(bodies, ex.body)
			}
		}
		d.mu.Unlock()
		for _, b := range bodies {
			_ = b.Close()
		}
	}
}

// The device's files, in types of no WASI implementation: WrapWASI
// (device_wasi.go) is a thin adapter that gives them the file-system and
// errno types of wasmbox's WASI (internal/wasip1).

// devErr is how an operation of the device fails; the adapter maps it to
// an errno.
type devErr uint8

const (
	devOK     devErr = iota
	devIO            // EIO: the request is too large, the cell ended, the body failed
	devNoSys         // ENOSYS: an operation the device's files do not have
	devNotDir        // ENOTDIR: a device name used as a directory
)

// devStat describes a device name or file: a regular file with one link.
type devStat struct {
	mode fs.FileMode
	size int64
}

// devFile is an open device name: a request being written (reqFile) or a
// response being read (respFile).
type devFile interface {
	read(p []byte) (int, devErr)
	write(p []byte) (int, devErr)
	stat() devStat
	close()
}

// devName returns the name under DevDir that guest path p (relative to "/")
// designates, and whether p ends in "/" (which requires a directory).
func devName(p string) (name string, dirOnly, ok bool) {
	clean := path.Clean("/" + p)
	name, ok = strings.CutPrefix(clean, DevDir+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false, false
	}
	return name, strings.HasSuffix(p, "/"), true
}

// statName is stat (or lstat: a name is no link) of a device name: every
// name exists, written or not.
func statName(dirOnly bool) (devStat, devErr) {
	if dirOnly {
		return devStat{}, devNotDir
	}
	return devStat{mode: 0o600}, devOK
}

// openName opens a device name: for writing (write, or read-write) it
// collects a request; for reading it makes the request (blocking until its
// response head) and reads the response. Creation, truncation, exclusion and
// append flags make no difference; a directory is ENOTDIR.
func (d *Device) openName(name string, write, dirOnly bool) (devFile, devErr) {
	if dirOnly {
		return nil, devNotDir
	}
	if !write {
		return d.open(name), devOK
	}
	r := &reqFile{d: d, name: name, max: d.cl.p.MaxRequestBytes + maxPreamble}
	d.mu.Lock()
	if cs := d.cell; cs != nil && cs.writers != nil {
		r.cs = cs
		cs.writers[r] = struct{}{}
	}
	d.mu.Unlock()
	return r, devOK
}

// unlinkName forgets the request written to name and closes its response,
// if any; it succeeds whether or not there was one.
func (d *Device) unlinkName(name string, dirOnly bool) devErr {
	if dirOnly {
		return devNotDir
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cs := d.cell; cs != nil {
		if ex := cs.requests[name]; ex != nil {
			cs.buffered -= int64(len(ex.req))
			if ex.body != nil {
				_ = ex.body.Close()
			}
			delete(cs.requests, name)
		}
	}
	return devOK
}

// reqFile collects a request the guest writes.
type reqFile struct {
	d    *Device
	cs   *cellState // nil: written outside a cell, or the cell ended
	name string
	buf  bytes.Buffer
	max  int64
	over bool
}

func (r *reqFile) stat() devStat {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	return devStat{mode: 0o600, size: int64(r.buf.Len())}
}

func (r *reqFile) read([]byte) (int, devErr) { return 0, devNoSys }

func (r *reqFile) write(p []byte) (int, devErr) {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	cs := r.cs
	switch {
	case cs == nil || r.over:
		return 0, devIO
	case int64(r.buf.Len()+len(p)) > r.max || cs.buffered+int64(len(p)) > cs.maxBuffered():
		r.over = true
		cs.buffered -= int64(r.buf.Len())
		r.buf = bytes.Buffer{}
		return 0, devIO
	}
	cs.buffered += int64(len(p))
	r.buf.Write(p)
	return len(p), devOK
}

func (r *reqFile) close() {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	cs := r.cs
	if cs == nil {
		return
	}
	delete(cs.writers, r)
	r.cs = nil
	ex := &exchange{req: r.buf.Bytes()}
	r.buf = bytes.Buffer{}
	switch {
	case r.over:
		ex.req, ex.started = nil, true
		ex.head = errorHead(&Error{URL: "request", Reason: fmt.Sprintf("the request is larger than %d bytes", cs.sess.cl.p.MaxRequestBytes), Err: ErrLimit})
	case len(cs.requests) >= cs.maxEntries() && cs.requests[r.name] == nil:
		// Not kept: reading the name says that no such request was written.
		cs.buffered -= int64(len(ex.req))
		return
	}
	if old := cs.requests[r.name]; old != nil {
		cs.buffered -= int64(len(old.req))
		if old.body != nil {
			_ = old.body.Close()
		}
	}
	cs.requests[r.name] = ex
}

// respFile reads a response: its JSON line and head, then its body.
type respFile struct {
	head    []byte
	ex      *exchange
	mu      *sync.Mutex
	cellCtx context.Context
}

func (r *respFile) stat() devStat { return devStat{mode: 0o400} }

func (r *respFile) write([]byte) (int, devErr) { return 0, devNoSys }

func (r *respFile) read(p []byte) (int, devErr) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, devOK
	}
	if r.ex == nil || r.ex.body == nil || len(p) == 0 {
		return 0, devOK
	}
	n, err := r.ex.body.Read(p)
	if err != nil && err != io.EOF {
		if n > 0 {
			return n, devOK // the error comes with the next read
		}
		if r.cellCtx != nil && r.cellCtx.Err() != nil {
			err = errInterrupted
		}
		r.mu.Lock()
		r.ex.errText = describe(err)
		r.mu.Unlock()
		return 0, devIO
	}
	return n, devOK
}

func (r *respFile) close() {
	if r.ex != nil && r.ex.body != nil {
		_ = r.ex.body.Close()
	}
}

// open returns what reading name gives, making its request on first use.
func (d *Device) open(name string) *respFile {
	d.mu.Lock()
	cs := d.cell
	if cs == nil {
		d.mu.Unlock()
		return &respFile{head: errorHead(ErrNoCell), mu: &d.mu}
	}
	if base, ok := strings.CutSuffix(name, ".error"); ok {
		var text string
		if ex := cs.requests[base]; ex != nil {
			text = ex.errText
		}
		d.mu.Unlock()
		return &respFile{head: []byte(text), mu: &d.mu}
	}
	ex := cs.requests[name]
	if ex == nil {
		d.mu.Unlock()
		return &respFile{head: errorHead(fmt.Errorf("no request named %q was written", name)), mu: &d.mu}
	}
	if ex.started {
		d.mu.Unlock()
		return &respFile{head: ex.head, mu: &d.mu} // only the head: the body was read once
	}
	ex.started = true
	req := ex.req
	ex.req = nil
	cs.buffered -= int64(len(req))
	d.mu.Unlock()
	head, body := d.do(cs, req)
	d.mu.Lock()
	ex.head, ex.body = head, body
	ended := d.cell != cs
	d.mu.Unlock()
	if ended && body != nil { // the cell ended meanwhile and closed the others
		_ = body.Close()
	}
	return &respFile{head: head, ex: ex, mu: &d.mu, cellCtx: cs.ctx}
}

type preamble struct {
	Base    string  `json:"base"`
	Timeout float64 `json:"timeout"`
}

// do parses and makes one request.
func (d *Device) do(cs *cellState, raw []byte) ([]byte, io.ReadCloser) {
	line, rest, ok := bytes.Cut(raw, []byte("\n"))
	var pre preamble
	if !ok || json.Unmarshal(line, &pre) != nil || pre.Base == "" {
		return errorHead(errors.New("malformed request: no preamble")), nil
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(rest)))
	if err != nil {
		return errorHead(fmt.Errorf("malformed request: %v", err)), nil
	}
	base, err := url.Parse(pre.Base)
	if err != nil || base.Host == "" {
		return errorHead(fmt.Errorf("malformed request: base %q", pre.Base)), nil
	}
	u := req.URL
	if !u.IsAbs() {
		u = &url.URL{Scheme: base.Scheme, Host: base.Host, Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	}
	req.URL, req.RequestURI, req.Host = u, "", ""
	req.Header.Del("Connection")
	ctx := cs.ctx
	if pre.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(pre.Timeout*float64(time.Second)))
		resp, err := cs.sess.Do(ctx, req)
		if err != nil {
			cancel()
			return errorHead(cs.failure(err)), nil
		}
		return responseHead(resp), &cancelBody{resp.Body, cancel}
	}
	resp, err := cs.sess.Do(ctx, req)
	if err != nil {
		return errorHead(cs.failure(err)), nil
	}
	return responseHead(resp), resp.Body
}

// failure is err, or errInterrupted once the cell's ctx ended.
func (cs *cellState) failure(err error) error {
	if cs.ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func responseHead(resp *http.Response) []byte {
	type head struct {
		Status  int         `json:"status"`
		Reason  string      `json:"reason"`
		URL     string      `json:"url"`
		Headers [][2]string `json:"headers"`
	}
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
	h := head{Status: resp.StatusCode, Reason: reason, URL: resp.Request.URL.String(), Headers: [][2]string{}}
	hdr := resp.Header.Clone()
	hdr.Del("Transfer-Encoding")
	hdr.Del("Connection")
	for k, vs := range hdr {
		for _, v := range vs {
			h.Headers = append(h.Headers, [2]string{k, v})
		}
	}
	b, _ := json.Marshal(h)
	var buf bytes.Buffer
	buf.Write(b)
	buf.WriteByte('\n')
	fmt.Fprintf(&buf, "HTTP/1.1 %03d %s\r\n", resp.StatusCode, reason)
	_ = hdr.Write(&buf)
	buf.WriteString("Connection: close\r\n\r\n")
	return buf.Bytes()
}

func errorHead(err error) []byte {
	kind := "failed"
	switch {
	case errors.Is(err, ErrRefused):
		kind = "refused"
	case errors.Is(err, ErrLimit):
		kind = "limit"
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	case errors.Is(err, errInterrupted):
		kind = "interrupted"
	}
	b, _ := json.Marshal(map[string]string{"error": describe(err), "kind": kind})
	return append(b, '\n')
}

// describe is the reason a guest sees: the policy's own message, or the
// failure without Go's url.Error wrapping.
func describe(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the request timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "the request was cancelled (the cell was interrupted or ended)"
	}
	return err.Error()
}
