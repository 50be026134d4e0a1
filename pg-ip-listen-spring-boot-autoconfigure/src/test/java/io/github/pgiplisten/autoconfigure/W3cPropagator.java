package io.github.pgiplisten.autoconfigure;

import java.util.List;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.propagation.Propagator;
import io.micrometer.tracing.test.simple.SimpleTraceContext;
import io.micrometer.tracing.test.simple.SimpleTracer;

/** W3C {@code traceparent} for the tests' {@link SimpleTracer}, which has no propagator of its own. */
final class W3cPropagator implements Propagator {

    private final SimpleTracer tracer;

    W3cPropagator(SimpleTracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public List<String> fields() {
        return List.of("traceparent");
    }

    @Override
    public <C> void inject(TraceContext context, C carrier, Setter<C> setter) {
        setter.set(carrier, "traceparent", "00-" + context.traceId() + "-" + context.spanId() + "-01");
    }

    @Override
    public <C> Span.Builder extract(C carrier, Getter<C> getter) {
        String traceparent = getter.get(carrier, "traceparent");
        Span.Builder builder = tracer.spanBuilder();
        if (traceparent != null) {
            String[] parts = traceparent.split("-");
            SimpleTraceContext parent = new SimpleTraceContext();
            parent.setTraceId(parts[1]);
            parent.setSpanId(parts[2]);
            parent.setSampled(true);
            builder.setParent(parent);
        }
        return builder;
    }
}
