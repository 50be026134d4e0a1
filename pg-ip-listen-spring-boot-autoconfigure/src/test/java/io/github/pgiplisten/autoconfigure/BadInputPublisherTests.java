package io.github.pgiplisten.autoconfigure;

import static io.github.pgiplisten.testsupport.GeneratedText.ofUtf8Bytes;
import static io.github.pgiplisten.testsupport.GeneratedText.utf8Length;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import io.github.pgiplisten.PgPayloadConverter;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.BadInputApp.BadInputListener;
import io.github.pgiplisten.autoconfigure.BadInputApp.OrderCreated;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.InvalidNotificationException;
import io.github.pgiplisten.core.Payload;
import io.github.pgiplisten.testsupport.Seed;

/**
 * Bad input to {@link PgPublisher}, in generated cases: invalid channel names, payloads at and around NOTIFY's limit
 * from 1- to 4-byte characters (as text and as objects written to JSON), NUL, lone surrogates, null and 10 MB. Each is
 * rejected with exactly the exception the core's validation gives (the core's tests check those against PostgreSQL's
 * rules), nothing of it is sent, and the notifications around it arrive in order; inside a transaction a caught
 * rejection leaves the transaction usable.
 */
class BadInputPublisherTests {

    private final Seed seed = Seed.fromSystemProperty();

    private final String channel = TestContexts.channel("pub");

    @Test
    void invalidChannelsAndPayloadsAreRejectedExactlyWithNothingSentAndTheRestArrivesInOrder() {
        seed.check(() -> BadInputApp.runner(channel).run(context -> {
            BadInputApp.awaitListening(context);
            Random random = seed.random();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            PgPayloadConverter converter = context.getBean(PgPayloadConverter.class);
            String text = channel + "-text";
            String typed = channel + "-typed";
            List<String> texts = new ArrayList<>();
            List<OrderCreated> orders = new ArrayList<>();
            int rejected = 0;

            for (String name : invalidChannelNames(random)) {
                Throwable expected = catchThrowable(() -> ChannelName.validate(name));
                assertThat(expected).as("channel %s", name).isInstanceOf(InvalidNotificationException.class);
                for (Object payload : new Object[] {"p", new OrderCreated(1, "x"), null, "x".repeat(8000)}) {
                    assertSameRejection(catchThrowable(() -> publisher.notify(name, payload)), expected);
                }
                rejected++;
            }
            texts.add("after the channels");
            publisher.notify(text, "after the channels");

            for (String payload : textPayloads(random)) {
                Throwable expected = catchThrowable(() -> Payload.validate(text, payload));
                if (expected == null) {
                    publisher.notify(text, payload);
                    texts.add(payload);
                    continue;
                }
                assertSameRejection(catchThrowable(() -> publisher.notify(text, payload)), expected);
                rejected++;
                texts.add("after payload " + rejected);
                publisher.notify(text, texts.get(texts.size() - 1));
            }

            int overhead = utf8Length(converter.write(new OrderCreated(0, "")));
            List<Integer> sizes = new ArrayList<>();
            for (OrderCreated order : objectPayloads(random, overhead)) {
                String json = converter.write(order);
                sizes.add(utf8Length(json));
                Throwable expected = catchThrowable(() -> Payload.validate(typed, json));
                if (expected == null) {
                    publisher.notify(typed, order);
                    orders.add(order);
                    continue;
                }
                assertSameRejection(catchThrowable(() -> publisher.notify(typed, order)), expected);
                rejected++;
            }
            OrderCreated last = new OrderCreated(-1, "the last one");
            publisher.notify(typed, last);
            orders.add(last);
            texts.add("the last one");
            publisher.notify(text, "the last one");

            BadInputListener listener = context.getBean(BadInputListener.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> listener.texts.size() >= texts.size() && listener.orders.size() >= orders.size());
            assertThat(listener.texts).containsExactlyElementsOf(texts);
            assertThat(listener.orders).containsExactlyElementsOf(orders);
            assertThat(orders.stream().anyMatch(order -> order.item().indexOf('\0') >= 0))
                    .as("a NUL inside an object travels as a JSON escape")
                    .isTrue();
            assertThat(sizes.subList(0, 15))
                    .as("JSON sizes")
                    .containsExactly(
                            7999, 7999, 7999, 7999, 7999, 8000, 8000, 8000, 8000, 8000, 8001, 8001, 8001, 8001, 8001);
            assertThat(rejected).isGreaterThan(60);
            assertThat(orders).hasSizeGreaterThan(6);
        }));
    }

    @Test
    void aRejectedPublishInsideATransactionLeavesItUsableAndAnUncaughtOneRollsItBack() {
        seed.check(() -> BadInputApp.runner(channel).run(context -> {
            BadInputApp.awaitListening(context);
            Random random = seed.random();
            PgPublisher publisher = context.getBean(PgPublisher.class);
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            String text = channel + "-text";
            String table = "bad_input_" + channel.replace('-', '_');
            jdbc.execute("CREATE TABLE " + table + " (id int)");
            List<@Nullable String> bad = new ArrayList<>(List.of(
                    ofUtf8Bytes(random, 8000 + random.nextInt(10)),
                    insert(random, ofUtf8Bytes(random, random.nextInt(100)), "\0"),
                    insert(random, ofUtf8Bytes(random, random.nextInt(100)), "\uDBFF"),
                    "a".repeat(10_000_000)));
            bad.add(null);

            // a statement PostgreSQL refused would abort the transaction (25P02); a rejection sends none
            transactions.executeWithoutResult(status -> {
                jdbc.update("INSERT INTO " + table + " VALUES (1)");
                publisher.notify(text, "tx 1");
                for (String payload : bad) {
                    assertSameRejection(
                            catchThrowable(() -> publisher.notify(text, payload)),
                            catchThrowable(() -> Payload.validate(text, payload)));
                }
                for (String name : invalidChannelNames(random).subList(0, 8)) {
                    assertSameRejection(
                            catchThrowable(() -> publisher.notify(name, "p")),
                            catchThrowable(() -> ChannelName.validate(name)));
                }
                publisher.notify(text, "tx 2");
                jdbc.update("INSERT INTO " + table + " VALUES (2)");
            });
            // like any exception, one that leaves the transaction rolls all of it back
            String tooLarge = ofUtf8Bytes(random, 8000);
            Throwable uncaught = catchThrowable(() -> transactions.executeWithoutResult(status -> {
                jdbc.update("INSERT INTO " + table + " VALUES (3)");
                publisher.notify(text, "tx 3");
                publisher.notify(text, tooLarge);
            }));
            assertSameRejection(uncaught, catchThrowable(() -> Payload.validate(text, tooLarge)));
            publisher.notify(text, "after");

            BadInputListener listener = context.getBean(BadInputListener.class);
            await().atMost(Duration.ofSeconds(20)).until(() -> listener.texts.size() >= 3);
            assertThat(listener.texts).containsExactly("tx 1", "tx 2", "after");
            assertThat(jdbc.queryForList("SELECT id FROM " + table + " ORDER BY id", Integer.class))
                    .containsExactly(1, 2);
            jdbc.execute("DROP TABLE " + table);
        }));
    }

    private static void assertSameRejection(@Nullable Throwable actual, @Nullable Throwable expected) {
        assertThat(expected).isNotNull();
        assertThat(actual).isExactlyInstanceOf(expected.getClass()).hasMessage(expected.getMessage());
    }

    /** Null, empty, too long (1- to 4-byte characters), NUL or a lone surrogate anywhere. */
    static List<@Nullable String> invalidChannelNames(Random random) {
        List<@Nullable String> names = new ArrayList<>(List.of("", "\0", "\uDBFF", ofUtf8Bytes(random, 5000)));
        names.add(null);
        for (int width = 1; width <= 4; width++) {
            names.add(ofUtf8Bytes(random, 64, width));
            names.add(ofUtf8Bytes(random, 65 + random.nextInt(30), width));
        }
        for (int i = 0; i < 8; i++) {
            names.add(ofUtf8Bytes(random, 64 + random.nextInt(60)));
            names.add(insert(random, ofUtf8Bytes(random, random.nextInt(70)), i % 2 == 0 ? "\0" : "\uDC00"));
        }
        return names;
    }

    /** 7999, 8000 and 8001 bytes of each width and mixed, around the limit, NUL, lone surrogates, null, 10 MB. */
    static List<@Nullable String> textPayloads(Random random) {
        List<@Nullable String> payloads = new ArrayList<>();
        for (int bytes = 7999; bytes <= 8001; bytes++) {
            for (int width = 1; width <= 4; width++) {
                payloads.add(ofUtf8Bytes(random, bytes, width));
            }
            payloads.add(ofUtf8Bytes(random, bytes));
            payloads.add(ofUtf8Bytes(random, bytes));
        }
        for (int i = 0; i < 6; i++) {
            payloads.add(ofUtf8Bytes(random, 7980 + random.nextInt(40)));
            payloads.add(insert(random, ofUtf8Bytes(random, random.nextInt(8100)), i % 2 == 0 ? "\0" : "\uD83C"));
        }
        payloads.add("");
        payloads.add(null);
        payloads.add("😀".repeat(2_500_000));
        return payloads;
    }

    /**
     * Orders whose JSON is 7999, 8000 or 8001 bytes with items of each character width (only characters JSON does
     * not escape, so the size is what was asked for), with a NUL (escaped by JSON, so it travels), and with a lone
     * surrogate (which JSON keeps, so the payload is refused).
     */
    private static List<OrderCreated> objectPayloads(Random random, int overhead) {
        List<OrderCreated> orders = new ArrayList<>();
        for (int bytes = 7999; bytes <= 8001; bytes++) {
            for (int width = 1; width <= 4; width++) {
                orders.add(new OrderCreated(0, unescaped(ofUtf8Bytes(random, bytes - overhead, width))));
            }
            orders.add(new OrderCreated(0, unescaped(ofUtf8Bytes(random, bytes - overhead))));
        }
        orders.add(new OrderCreated(random.nextLong(), insert(random, ofUtf8Bytes(random, 100), "\0")));
        orders.add(new OrderCreated(random.nextLong(), insert(random, ofUtf8Bytes(random, 100), "\uDC00")));
        orders.add(new OrderCreated(random.nextLong(), "x".repeat(10_000_000)));
        return orders;
    }

    /** Replaces what JSON escapes (quote, backslash, control characters) by one-byte letters: same UTF-8 size. */
    private static String unescaped(String text) {
        StringBuilder result = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            result.append(c == '"' || c == '\\' || c < 0x20 ? 'q' : c);
        }
        return result.toString();
    }

    private static String insert(Random random, String text, String inserted) {
        int at = random.nextInt(text.length() + 1);
        if (at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at))) {
            at--;
        }
        return text.substring(0, at) + inserted + text.substring(at);
    }
}
