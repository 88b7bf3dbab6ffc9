// C side of the cgo generator: an event loop that calls back into Go, and the traceback,
// context and symbolizer functions runtime.SetCgoTraceback needs. The traceback reports the
// two C functions on the path from the cgo call to the Go callback.
#include <stdint.h>
#include <stddef.h>

extern void goOnEvent(int);

__attribute__((noinline)) void c_deliver(int n) {
	goOnEvent(n);
}

__attribute__((noinline)) void c_dispatch(int n) {
	c_deliver(n);
}

void dispatchEvents(int n) {
	c_dispatch(n);
}

struct contextArg { uintptr_t context; };
struct tracebackArg { uintptr_t context; uintptr_t sigContext; uintptr_t *buf; uintptr_t max; };
struct symbolizerArg {
	uintptr_t pc; const char *file; uintptr_t lineno; const char *func;
	uintptr_t entry; uintptr_t more; uintptr_t data;
};

static void context(void *p) {
	struct contextArg *arg = p;
	if (arg->context == 0) {
		arg->context = 1;
	}
}

static void traceback(void *p) {
	struct tracebackArg *arg = p;
	uintptr_t pcs[] = {(uintptr_t)c_deliver + 8, (uintptr_t)c_dispatch + 8, 0};
	for (uintptr_t i = 0; i < arg->max && i < 3; i++) {
		arg->buf[i] = pcs[i];
	}
}

static void symbolizer(void *p) {
	struct symbolizerArg *arg = p;
	arg->more = 0;
	arg->file = NULL;
	arg->func = NULL;
	if (arg->pc == (uintptr_t)c_deliver + 8) {
		arg->func = "c_deliver";
		arg->file = "cgo_c.c";
		arg->lineno = 9;
		arg->entry = (uintptr_t)c_deliver;
	} else if (arg->pc == (uintptr_t)c_dispatch + 8) {
		arg->func = "c_dispatch";
		arg->file = "cgo_c.c";
		arg->lineno = 13;
		arg->entry = (uintptr_t)c_dispatch;
	}
}

void *leakgenTraceback = traceback;
void *leakgenContext = context;
void *leakgenSymbolizer = symbolizer;
