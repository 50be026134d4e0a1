package io.github.pgiplisten.observation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The trace envelope: what goes in comes out, and payloads without one are never taken for one. */
class PgListenTraceEnvelopeTests {

    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void fieldsAndPayloadComeBackAsTheyWent() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("traceparent", TRACEPARENT);
        fields.put("tracestate", "congo=t61rcWkgMzE");
        String wrapped = PgListenTraceEnvelope.wrap(fields, "{\"id\":7}");
        PgListenTraceEnvelope.Opened opened = PgListenTraceEnvelope.open(wrapped);
        assertThat(opened.fields()).isEqualTo(fields);
        assertThat(opened.payload()).isEqualTo("{\"id\":7}");
        assertThat(PgListenTraceEnvelope.open(PgListenTraceEnvelope.wrap(Map.of("traceparent", TRACEPARENT), ""))
                        .payload())
                .isEmpty();
    }

    @Test
    void theEnvelopeOfATraceparentCostsAboutSeventyBytes() {
        String wrapped = PgListenTraceEnvelope.wrap(Map.of("traceparent", TRACEPARENT), "");
        assertThat(wrapped.getBytes(StandardCharsets.UTF_8)).hasSize(2 + "traceparent=".length() + 55);
    }

    @Test
    void payloadsWithoutAWellFormedEnvelopeAreLeftAlone() {
        for (String payload : new String[] {
            "",
            "plain text from a trigger",
            "{\"json\":true}",
            "\u001Eno end",
            "\u001Enot a field\u001Erest",
            "\u001E=empty key\u001Erest"
        }) {
            PgListenTraceEnvelope.Opened opened = PgListenTraceEnvelope.open(payload);
            assertThat(opened.fields()).as(payload).isEmpty();
            assertThat(opened.payload()).isEqualTo(payload);
        }
        assertThat(PgListenTraceEnvelope.wrap(Map.of(), "as is")).isEqualTo("as is");
    }
}
