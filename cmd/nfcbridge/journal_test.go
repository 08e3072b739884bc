package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalPriorities(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "debug", true)
	require.NoError(t, err)
	log = log.With("read", "r1").WithGroup("g")
	log.Debug("d", "k", 1)
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4)
	for i, prio := range []string{"<7>{", "<6>{", "<4>{", "<3>{"} {
		assert.True(t, strings.HasPrefix(lines[i], prio), lines[i])
		assert.Contains(t, lines[i], `"read":"r1"`)
	}
	assert.Contains(t, lines[0], `"g":{"k":1}`)

	buf.Reset()
	log, err = newLogger(&buf, "warn", true)
	require.NoError(t, err)
	log.Info("hidden")
	assert.Empty(t, buf.String(), "levels still filter")
}

func TestToJournal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	stream := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	e := &env{getenv: func(k string) string {
		if k == "JOURNAL_STREAM" {
			return stream
		}
		return ""
	}}
	assert.True(t, toJournal(e, f))
	assert.False(t, toJournal(e, os.Stdout), "another stream: a terminal or a pipe, plain JSON")
	assert.False(t, toJournal(&env{getenv: func(string) string { return "" }}, f))
	var b bytes.Buffer
	assert.False(t, toJournal(e, &b))
}
