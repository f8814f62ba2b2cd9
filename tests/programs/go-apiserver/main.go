// SPDX-License-Identifier: Apache-2.0

// kube-apiserver (Go stand-in): writes audit lines to --audit-log-path the way the real
// apiserver does, through Go's own os.File.Write, so the audit tap's uprobe path (which probes
// syscall.write inside the binary) has a real Go program to follow. The tests build it twice,
// with and without `-ldflags=-s -w`, and run it under a name of their choosing (its comm).
//
// Like tests/programs/kube-apiserver.c: one write per event line (line and newline together)
// to a file opened O_WRONLY|O_APPEND|O_CREAT (os.OpenFile adds O_CLOEXEC), from --threads
// goroutines under one writer lock, and rotation as lumberjack does it: close, rename the name
// to audit-<time>-<n>.log beside it, open the name afresh. --ordered writes in input order, so
// the file set equals the input. --start-when FILE holds the writes until FILE exists (a test
// starts the sensor after the server, as a DaemonSet usually is). Lines come from --input or
// are generated (--generate N --line-bytes B, every --alert-every'th a secret read by curl).
// The closing line on stderr has the same figures as the C stand-in's, for bench/tap-bench.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	path        = flag.String("audit-log-path", "", "audit log to write")
	input       = flag.String("input", "", "lines to write, one per line")
	generate    = flag.Int("generate", 0, "generate N lines instead")
	lineBytes   = flag.Int("line-bytes", 1024, "generated line size, newline included")
	alertEvery  = flag.Int("alert-every", 1, "every Nth generated line alerts (0: none)")
	rotateBytes = flag.Int64("rotate-bytes", 0, "rotate before a write would pass N bytes")
	rate        = flag.Float64("rate", 0, "lines per second (0: as fast as possible)")
	threads     = flag.Int("threads", 1, "writing goroutines")
	repeat      = flag.Int("repeat", 1, "write the lines N times")
	ordered     = flag.Bool("ordered", false, "write in input order")
	exitDone    = flag.Bool("exit-when-done", false, "exit after the last line")
	startDelay  = flag.Duration("start-delay", 0, "wait this long before the first write")
	startWhen   = flag.String("start-when", "", "wait until this file exists before writing")
)

// replaced at write time by CLOCK_MONOTONIC nanoseconds (19 digits), as the C stand-in does, so
// the bench measures write-to-alert latency
const sendToken = "@@KH_SEND_NS_19DIG@"

func monotonicNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

type log struct {
	mu        sync.Mutex
	cond      *sync.Cond
	f         *os.File
	size      int64
	rotations int
	turn      int
	writeNs   int64
	written   int64
	bytes     int64
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "kube-apiserver (Go stand-in): %s: %v\n", what, err)
	os.Exit(1)
}

func (l *log) open() {
	f, err := os.OpenFile(*path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		die("open", err)
	}
	st, err := f.Stat()
	if err != nil {
		die("stat", err)
	}
	l.f, l.size = f, st.Size()
}

func (l *log) rotate() {
	l.f.Close()
	ext := filepath.Ext(*path)
	stamp := time.Now().UTC().Format("2006-01-02T15-04-05.000000000")
	to := fmt.Sprintf("%s-%s-%d%s", strings.TrimSuffix(*path, ext), stamp, l.rotations, ext)
	if _, err := os.Stat(*path); err == nil {
		if err := os.Rename(*path, to); err != nil && !os.IsNotExist(err) {
			die("rename", err)
		}
	}
	l.rotations++
	l.open()
}

func (l *log) write(idx int, line []byte) {
	l.mu.Lock()
	for *ordered && l.turn != idx {
		l.cond.Wait()
	}
	if *rotateBytes > 0 && l.size > 0 && l.size+int64(len(line)) > *rotateBytes {
		l.rotate()
	}
	if i := bytes.Index(line, []byte(sendToken)); i >= 0 {
		line = append([]byte(nil), line...)
		copy(line[i:], fmt.Sprintf("%019d", monotonicNs()))
	}
	t := time.Now()
	n, err := l.f.Write(line)
	l.writeNs += time.Since(t).Nanoseconds()
	if err != nil || n != len(line) {
		die("write", err)
	}
	l.size += int64(n)
	l.written++
	l.bytes += int64(n)
	l.turn++
	if *ordered {
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

func load() [][]byte {
	var lines [][]byte
	if *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			die("input", err)
		}
		r := bufio.NewReaderSize(f, 1<<20)
		for {
			s, err := r.ReadBytes('\n')
			if len(s) > 0 {
				if s[len(s)-1] != '\n' {
					s = append(s, '\n')
				}
				lines = append(lines, s)
			}
			if err != nil {
				break
			}
		}
		f.Close()
		return lines
	}
	for i := 0; i < *generate; i++ {
		alert := *alertEvery > 0 && i%*alertEvery == 0
		res, user, ua := "configmaps", "system:kube-controller-manager",
			"kube-controller-manager/v1.36.2 (linux/amd64) kubernetes/abc"
		if alert {
			res, user, ua = "secrets", "bench-user", "curl/8.5.0"
		}
		s := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",`+
			`"auditID":"gen-%012d-`+sendToken+`","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/`+
			`default/%s/s%d","verb":"get","user":{"username":"%s","groups":["system:authenticated"]},`+
			`"sourceIPs":["10.1.2.3"],"userAgent":"%s","objectRef":{"resource":"%s","namespace":`+
			`"default","name":"s%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},`+
			`"requestReceivedTimestamp":"2026-01-02T03:04:05.000000Z","stageTimestamp":`+
			`"2026-01-02T03:04:05.001000Z","annotations":{"pad":"`, i, res, i, user, ua, res, i)
		sfx := `","authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}` + "\n"
		if pad := *lineBytes - len(s) - len(sfx); pad > 0 {
			s += strings.Repeat("x", pad)
		}
		lines = append(lines, []byte(s+sfx))
	}
	return lines
}

func main() {
	flag.Parse()
	if *path == "" || (*input == "" && *generate == 0) || *threads < 1 {
		flag.Usage()
		os.Exit(2)
	}
	lines := load()
	total := len(lines) * *repeat
	l := &log{}
	l.cond = sync.NewCond(&l.mu)
	l.open()
	time.Sleep(*startDelay)
	for *startWhen != "" {
		if _, err := os.Stat(*startWhen); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t0 := time.Now()
	var next int64
	var nextMu sync.Mutex
	var wg sync.WaitGroup
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				nextMu.Lock()
				idx := int(next)
				next++
				nextMu.Unlock()
				if idx >= total {
					return
				}
				if *rate > 0 {
					due := t0.Add(time.Duration(float64(idx) * 1e9 / *rate))
					time.Sleep(time.Until(due))
				}
				l.write(idx, lines[idx%len(lines)])
			}
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	per := func(x float64) float64 {
		if l.written == 0 {
			return 0
		}
		return x / float64(l.written)
	}
	fmt.Fprintf(os.Stderr, "kube-apiserver (Go stand-in): pid %d wrote %d lines (%d bytes), "+
		"%d rotations, %.3f s, %.1f ns/line, %.1f ns/write(2), %.1f cpu ns/line\n",
		os.Getpid(), l.written, l.bytes, l.rotations, secs, per(secs*1e9),
		per(float64(l.writeNs)), per(cpu*1e9))
	if !*exitDone {
		// run on, idle, like a real apiserver, until stopped (a bare select{} is a fatal
		// "all goroutines are asleep" in the runtime once nothing else can run)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
	}
}
