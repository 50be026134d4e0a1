package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ChannelsAndPayloadsTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void channelNamesAreQuotedSoCaseSpacesQuotesAndNonAsciiLettersWork() {
        String suffix = engines.channel("");
        List<String> channels = List.of("Orders" + suffix, "with space" + suffix, "quote\"d 'both'" + suffix,
                "Grüße-日本" + suffix, "semi;colon--" + suffix, "back\\slash" + suffix);
        PgListenEngine engine = engines.create();
        Recorder recorder = new Recorder();
        channels.forEach(channel -> engine.subscribe(channel, recorder));
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));
        channels.forEach(channel -> engines.notify(channel, "to " + channel));

        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == channels.size());
        assertThat(recorder.handled()).extracting(PgNotification::channel).containsExactlyInAnyOrderElementsOf(channels);
        assertThat(recorder.handled()).allSatisfy(n -> assertThat(n.payload()).isEqualTo("to " + n.channel()));
        // the lower-case form is another channel
        engines.notify("orders" + suffix, "not for us");
        engines.notify(channels.get(0), "last");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == channels.size() + 1);
        assertThat(recorder.payloads()).doesNotContain("not for us");
    }

    @Test
    void payloadsUpToTheLimitArriveWholeAndOversizeOnesAreRejectedBeforeAnythingIsSent() throws Exception {
        String channel = engines.channel("sizes");
        PgListenEngine engine = engines.create();
        Recorder recorder = new Recorder();
        engine.subscribe(channel, recorder);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        String largestAscii = "a".repeat(7999);
        String largestMultibyte = "€".repeat(2666) + "a"; // 7998 + 1 bytes
        String tooLargeMultibyte = "€".repeat(2667); // 8001 bytes in 2667 chars
        try (Connection connection = engines.server().connect()) {
            assertThatThrownBy(() -> PgNotifier.notify(connection, channel, "a".repeat(8000)))
                    .isInstanceOf(PayloadTooLargeException.class)
                    .hasMessageContaining("8000 bytes").hasMessageContaining("at most 7999");
            assertThatThrownBy(() -> PgNotifier.notify(connection, channel, tooLargeMultibyte))
                    .isInstanceOf(PayloadTooLargeException.class).hasMessageContaining("8001 bytes")
                    .satisfies(ex -> assertThat(((PayloadTooLargeException) ex).actualBytes()).isEqualTo(8001));
            assertThatThrownBy(() -> PgNotifier.notify(connection, channel, "nul\0inside"))
                    .isExactlyInstanceOf(InvalidPayloadException.class).hasMessageContaining("NUL");
            assertThatThrownBy(() -> PgNotifier.notify(connection, "x".repeat(64), "p"))
                    .isInstanceOf(ChannelNameTooLongException.class).hasMessageContaining("64 bytes")
                    .hasMessageContaining("at most 63");
            assertThatThrownBy(() -> PgNotifier.notify(connection, "é".repeat(32), "p"))
                    .isInstanceOf(ChannelNameTooLongException.class).hasMessageContaining("64 bytes");
            assertThatThrownBy(() -> PgNotifier.notify(connection, "", "p"))
                    .isExactlyInstanceOf(InvalidChannelNameException.class).hasMessageContaining("empty");
            PgNotifier.notify(connection, channel, largestAscii);
            PgNotifier.notify(connection, channel, largestMultibyte);
            PgNotifier.notify(connection, channel, "");
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 3);
        assertThat(recorder.payloads()).containsExactly(largestAscii, largestMultibyte, "");
    }

    @Test
    void subscribingToAnInvalidChannelFailsAtOnce() {
        PgListenEngine engine = engines.create();
        assertThatThrownBy(() -> engine.subscribe("n".repeat(64), n -> { }))
                .isInstanceOf(ChannelNameTooLongException.class);
        assertThatThrownBy(() -> engine.subscribe("a\0b", n -> { })).isInstanceOf(InvalidChannelNameException.class)
                .hasMessageContaining("NUL");
        assertThat(engine.status().channels()).isEmpty();
    }

    @Test
    void channelsCanBeUnsubscribedAndSubscribedWhileListening() {
        String first = engines.channel("first");
        String second = engines.channel("second");
        PgListenEngine engine = engines.create();
        Recorder recorder = new Recorder();
        Subscription subscription = engine.subscribe(first, recorder);
        engine.start();
        Engines.awaitSingleListeningLeader(List.of(engine));

        engine.subscribe(second, recorder);
        subscription.close();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engine.status().listeningChannels().equals(java.util.Set.of(second)));
        engines.notify(first, "gone");
        engines.notify(second, "here");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.count() == 1);
        assertThat(recorder.payloads()).containsExactly("here");
        subscription.close(); // twice is fine
    }

    @Nested
    class Validation {

        @Test
        void channelNamesAtTheLimitAreAccepted() {
            assertThat(ChannelName.validate("x".repeat(63))).hasSize(63);
            assertThat(ChannelName.validate("é".repeat(31) + "x")).hasSize(32);
            assertThat(ChannelName.quote("a\"b")).isEqualTo("\"a\"\"b\"");
        }

        @Test
        void unpairedSurrogatesAreRejected() {
            assertThatThrownBy(() -> Payload.validate("c", "x\uD800y")).isInstanceOf(InvalidPayloadException.class)
                    .hasMessageContaining("surrogate");
            assertThatThrownBy(() -> ChannelName.validate("x\uDC00")).isInstanceOf(InvalidChannelNameException.class);
            assertThat(Payload.validate("c", "🌍".repeat(1999))).hasSize(3998); // 7996 bytes
        }

        @Test
        void nullIsRejectedWithAClearMessage() {
            assertThatThrownBy(() -> ChannelName.validate(null)).isInstanceOf(InvalidChannelNameException.class)
                    .hasMessage("Channel name must not be null");
            assertThatThrownBy(() -> Payload.validate("c", null)).isInstanceOf(InvalidPayloadException.class)
                    .hasMessageContaining("must not be null");
        }
    }
}
