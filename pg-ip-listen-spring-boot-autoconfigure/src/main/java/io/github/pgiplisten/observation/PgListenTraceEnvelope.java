package io.github.pgiplisten.observation;

import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * The trace context a publisher sends with a payload, and reads back on the listener side. The payload becomes
 * {@code RS traceparent=… [US tracestate=…] RS payload}, RS and US being the ASCII record and unit separators
 * (U+001E, U+001F): control characters that text from SQL triggers or JSON does not begin with, so a payload without
 * the envelope is never taken for one. An envelope is about 70 bytes (with {@code traceparent} only) of the 8000 a
 * payload may have. Listeners of pg-ip-listen never see it; other programs that LISTEN (psql, a trigger's consumer)
 * see it as part of the payload.
 */
public final class PgListenTraceEnvelope {

    static final char RECORD = '\u001E';
    static final char UNIT = '\u001F';

    private PgListenTraceEnvelope() {}

    /** A payload with its trace fields in front; the payload alone when there are none. */
    public static String wrap(Map<String, String> fields, String payload) {
        if (fields.isEmpty()) {
            return payload;
        }
        StringBuilder text = new StringBuilder(payload.length() + 80).append(RECORD);
        boolean first = true;
        for (Map.Entry<String, String> field : fields.entrySet()) {
            if (!first) {
                text.append(UNIT);
            }
            text.append(field.getKey()).append('=').append(field.getValue());
            first = false;
        }
        return text.append(RECORD).append(payload).toString();
    }

    /** What a payload holds: trace fields (none when it has no envelope) and the payload itself. */
    public record Opened(Map<String, String> fields, String payload) {

        public @Nullable String field(String name) {
            return fields.get(name);
        }
    }

    /** Takes a payload apart; one without a well-formed envelope is returned as it is, with no fields. */
    public static Opened open(String payload) {
        if (payload.isEmpty() || payload.charAt(0) != RECORD) {
            return new Opened(Map.of(), payload);
        }
        int end = payload.indexOf(RECORD, 1);
        if (end < 0) {
            return new Opened(Map.of(), payload);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String field : payload.substring(1, end).split(String.valueOf(UNIT))) {
            int equals = field.indexOf('=');
            if (equals <= 0) {
                return new Opened(Map.of(), payload); // not ours after all
            }
            fields.put(field.substring(0, equals), field.substring(equals + 1));
        }
        return new Opened(fields, payload.substring(end + 1));
    }
}
