package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.election.ControlMessage.Kind;

class ControlMessageTest {

    private static final String MARK = "8f00aa11bb22cc33";
    private static final String EARLIER = "8000000000000001";

    @Test
    void aLeadSetsItsMarkAndMayCarryTheChannelDigest() {
        assertThat(ControlMessage.parse(Protocol.lead(MARK)))
                .isEqualTo(new ControlMessage(Kind.LEAD, MARK, null, null));
        assertThat(ControlMessage.parse(Protocol.lead(MARK) + " 0a1b2c3d"))
                .isEqualTo(new ControlMessage(Kind.LEAD, MARK, null, "0a1b2c3d"));
    }

    @Test
    void aHandoverMarkSetsItsMark() {
        assertThat(ControlMessage.parse(Protocol.mark(MARK)))
                .isEqualTo(new ControlMessage(Kind.MARK, MARK, null, null));
    }

    @Test
    void aDoneConfirmsItsMarkAndSetsNone() {
        assertThat(ControlMessage.parse(Protocol.done(MARK)))
                .isEqualTo(new ControlMessage(Kind.DONE, null, MARK, null));
    }

    @Test
    void aProgressMaySetAMarkConfirmAnEarlierOneOrBothAndCarryTheDigest() {
        assertThat(ControlMessage.parse(Protocol.progress(MARK, EARLIER)))
                .isEqualTo(new ControlMessage(Kind.PROGRESS, MARK, EARLIER, null));
        assertThat(ControlMessage.parse(Protocol.progress(MARK, null)))
                .isEqualTo(new ControlMessage(Kind.PROGRESS, MARK, null, null));
        assertThat(ControlMessage.parse(Protocol.progress(null, EARLIER)))
                .isEqualTo(new ControlMessage(Kind.PROGRESS, null, EARLIER, null));
        assertThat(ControlMessage.parse(Protocol.progress(null, null)))
                .isEqualTo(new ControlMessage(Kind.PROGRESS, null, null, null));
        assertThat(ControlMessage.parse(Protocol.progress(MARK, EARLIER) + " 00ff00ff"))
                .isEqualTo(new ControlMessage(Kind.PROGRESS, MARK, EARLIER, "00ff00ff"));
    }

    @Test
    void freshMarksAreTokensThatTravelAndDifferFromEachOther() {
        Set<String> marks = new java.util.HashSet<>();
        for (int i = 0; i < 100; i++) {
            String mark = Protocol.newMark();
            assertThat(mark).hasSize(16).matches("[0-9a-f]+");
            assertThat(ControlMessage.parse(Protocol.mark(mark)))
                    .extracting(ControlMessage::mark)
                    .isEqualTo(mark);
            marks.add(mark);
        }
        assertThat(marks).hasSize(100);
    }

    @Test
    void eachGroupHasItsOwnControlChannelWithinPostgresNameLimit() {
        assertThat(Protocol.channel(0x1234abcdL)).isEqualTo("pg-ip-listen:1234abcd");
        assertThat(Protocol.channel(-1L)).isEqualTo("pg-ip-listen:ffffffffffffffff");
        assertThat(ChannelName.validate(Protocol.channel(Long.MIN_VALUE))).isNotNull();
    }

    @Test
    void theChannelDigestDependsOnTheSetOfNamesOnly() {
        String digest = Protocol.channelsDigest(List.of("orders", "invoices"));
        assertThat(digest).hasSize(8).matches("[0-9a-f]+");
        assertThat(Protocol.channelsDigest(List.of("invoices", "orders", "orders")))
                .isEqualTo(digest);
        assertThat(Protocol.channelsDigest(List.of("orders"))).isNotEqualTo(digest);
        assertThat(Protocol.channelsDigest(List.of("ab"))).isNotEqualTo(Protocol.channelsDigest(List.of("a", "b")));
        assertThat(Protocol.channelsDigest(List.of())).hasSize(8);
        assertThat(Protocol.channelsDigest(List.of("orders", "invoices", "pg_ip_listen_durable")))
                .as("the durable channels' wake-up, which a stopping instance drops before its engine stops")
                .isEqualTo(digest);
        assertThat(io.github.pgiplisten.core.durable.DurableLog.WAKE_CHANNEL).startsWith(Protocol.OWN_CHANNEL_PREFIX);
        assertThat(ControlMessage.parse(Protocol.lead(MARK) + " " + digest))
                .extracting(ControlMessage::channels)
                .isEqualTo(digest);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "hello",
                "lead 8f00",
                "pg-ip-listen",
                "pg-ip-listen ",
                "pg-ip-listen lead",
                "pg-ip-listen lead ",
                "pg-ip-listen lead 8F00",
                "pg-ip-listen lead 8f00 0a1b extra",
                "pg-ip-listen lead  8f00",
                "pg-ip-listen lead 8f00 zz",
                "pg-ip-listen lead -",
                "pg-ip-listen lead 8f00 ",
                "pg-ip-listen lead 123456789012345678901234567890abc",
                "pg-ip-listen mark",
                "pg-ip-listen mark 8f00 0a1b",
                "pg-ip-listen mark -",
                "pg-ip-listen done",
                "pg-ip-listen done -",
                "pg-ip-listen done 8f00 0a1b",
                "pg-ip-listen progress",
                "pg-ip-listen progress 8f00",
                "pg-ip-listen progress 8f00 0a1b 00ff 11",
                "pg-ip-listen progress x -",
                "pg-ip-listen progress - x",
                "pg-ip-listen progress - - -",
                "pg-ip-listen resign 8f00",
                "PG-IP-LISTEN lead 8f00",
                " pg-ip-listen lead 8f00"
            })
    void anythingElseOnTheControlChannelIsNoneOfOurs(String payload) {
        assertThat(ControlMessage.parse(payload)).isNull();
    }
}
