package io.github.pgiplisten.autoconfigure;

import static io.github.pgiplisten.testsupport.GeneratedText.ofUtf8Bytes;
import static io.github.pgiplisten.testsupport.GeneratedText.utf8Length;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;
import org.springframework.jdbc.core.JdbcTemplate;

import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.BadInputApp.BadInputListener;
import io.github.pgiplisten.autoconfigure.BadInputApp.OrderCreated;
import io.github.pgiplisten.autoconfigure.BadInputApp.RecordingErrorHandler;
import io.github.pgiplisten.core.ChannelName;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.PgText;
import io.github.pgiplisten.testsupport.Seed;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Bad input reaching {@code @PgListener} methods, in generated cases: channel names and placeholders in the
 * annotation (start-up fails naming the method, or awkward valid names are delivered exactly), payloads a typed
 * listener cannot read, and listeners that throw. Every failure reaches the error handler with a specific
 * {@link PgListenerExecutionFailedException} naming the method and the channel, and nothing else changes: the other
 * listeners of the channel get the notification, and the next one is handled normally.
 */
class BadInputListenerTests {

    private final Seed seed = Seed.fromSystemProperty();

    private final String channel = TestContexts.channel("bad");

    // ---- channel names in the annotation ----

    static class BadChannelBean {
        @PgListener({"${test.good}", "${test.bad}"})
        void on(String payload) {}
    }

    static class EmptyDefaultBean {
        @PgListener("${test.unset:}")
        void on() {}
    }

    static class EmptyLiteralBean {
        @PgListener({"fine", ""})
        void on() {}
    }

    static class ExpressionsBean {
        @PgListener({"#{'spel_' + '${test.suffix}'}", "#{1 +}"})
        void on() {}
    }

    static class GoodExpressionBean {
        @PgListener("#{'spel_' + '${test.suffix}'}")
        void on() {}
    }

    static class NoChannelBean {
        @PgListener({})
        void on() {}
    }

    /** Only what the annotation needs: placeholders (strict, as in a Boot application) and our configuration. */
    private static ApplicationContextRunner bare(boolean strictPlaceholders) {
        ApplicationContextRunner runner = new ApplicationContextRunner()
                .withPropertyValues(
                        "pg-ip-listen.url=" + TestPostgres.shared().jdbcUrl(),
                        "pg-ip-listen.group=" + TestContexts.channel("bare"));
        return strictPlaceholders
                ? runner.withConfiguration(AutoConfigurations.of(
                        PropertyPlaceholderAutoConfiguration.class, PgListenAutoConfiguration.class))
                : runner.withConfiguration(AutoConfigurations.of(PgListenAutoConfiguration.class));
    }

    private static ApplicationContextRunner withProperties(
            ApplicationContextRunner runner, Map<String, Object> properties) {
        // straight into the environment: TestPropertyValues would trim the whitespace some cases are made of
        return runner.withInitializer(context ->
                context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("bad-input", properties)));
    }

    @Test
    void invalidChannelNamesInTheAnnotationFailStartUpNamingTheMethodAndTheProblem() {
        seed.check(() -> {
            Random random = seed.random();
            List<String> invalid =
                    new ArrayList<>(List.of("", "\0", "\uD800", "a\0b", "x".repeat(64), ofUtf8Bytes(random, 1000)));
            for (int width = 1; width <= 4; width++) {
                invalid.add(ofUtf8Bytes(random, 64 + random.nextInt(30), width));
            }
            for (int i = 0; i < 4; i++) {
                String name = ofUtf8Bytes(random, random.nextInt(60));
                int at = random.nextInt(name.length() + 1);
                if (at > 0 && at < name.length() && Character.isLowSurrogate(name.charAt(at))) {
                    at--;
                }
                invalid.add(name.substring(0, at) + (i % 2 == 0 ? "\0" : "\uDFFF") + name.substring(at));
            }
            int cases = 0;
            for (String generated : invalid) {
                // a property value is resolved too: no "${" or "#{" in it ('(' has the same UTF-8 length as '{')
                String bad = generated.replace("${", "$(").replace("#{", "#(");
                String problem = catchThrowable(() -> ChannelName.validate(bad)).getMessage();
                withProperties(
                                bare(true).withBean("badChannelListener", BadChannelBean.class),
                                Map.of("test.good", "fine", "test.bad", bad))
                        .run(context -> assertStartUpFailure(
                                context.getStartupFailure(),
                                "@PgListener method badChannelListener#on has an "
                                        + "invalid channel (from '${test.bad}'): " + problem,
                                "Use a channel name of 1 to 63 UTF-8 bytes without NUL."));
                cases++;
            }
            assertThat(cases).isEqualTo(14);
        });
    }

    @Test
    void placeholdersOrExpressionsThatResolveToNothingOrToNoChannelFailStartUpNamingTheMethod() {
        String unresolvable = "Define the property, or give the placeholder a default: ${name:default}.";
        bare(true)
                .withBean("badChannelListener", BadChannelBean.class)
                .withPropertyValues("test.good=fine")
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method badChannelListener#on"
                                + " has channel '${test.bad}' whose placeholder cannot be resolved: Could not resolve "
                                + "placeholder 'test.bad' in value \"${test.bad}\"",
                        unresolvable));
        // a property that is itself an unresolvable placeholder
        withProperties(
                        bare(true).withBean("badChannelListener", BadChannelBean.class),
                        Map.of("test.good", "fine", "test.bad", "${test.missing}"))
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method "
                                + "badChannelListener#on has channel '${test.bad}' whose placeholder cannot be "
                                + "resolved: Could not resolve placeholder 'test.missing' in value "
                                + "\"${test.missing}\" <-- \"${test.bad}\"",
                        unresolvable));
        // without a strict placeholder configurer the placeholder is left in place
        bare(false)
                .withBean("badChannelListener", BadChannelBean.class)
                .withPropertyValues("test.good=fine")
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method badChannelListener#on"
                                + " has channel '${test.bad}' whose placeholder cannot be resolved: '${test.bad}' is left "
                                + "after resolving",
                        unresolvable));
        bare(true)
                .withBean("emptyDefaultListener", EmptyDefaultBean.class)
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method emptyDefaultListener#on has an invalid channel (from "
                                + "'${test.unset:}'): Channel name must not be empty",
                        "Use a channel name of 1 to 63 UTF-8 bytes without NUL."));
        bare(true)
                .withBean("emptyLiteralListener", EmptyLiteralBean.class)
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method emptyLiteralListener#on has an invalid channel: "
                                + "Channel name must not be empty",
                        "Use a channel name of 1 to 63 UTF-8 bytes without NUL."));
        bare(true)
                .withBean("goodExpressionListener", GoodExpressionBean.class)
                .withPropertyValues("test.suffix=x1")
                .run(context -> assertThat(context.getBean(PgListenStatus.class)
                                .snapshot()
                                .channels()
                                .subscribed())
                        .contains("spel_x1"));
        bare(true)
                .withBean("expressionsListener", ExpressionsBean.class)
                .withPropertyValues("test.suffix=x1")
                .run(context -> {
                    PgListenConfigurationException failure = configurationFailure(context.getStartupFailure());
                    assertThat(failure.getMessage())
                            .startsWith("@PgListener method expressionsListener#on has channel "
                                    + "'#{1 +}' whose expression cannot be evaluated: ");
                    assertThat(failure.action()).isEqualTo("Fix the #{…} expression, or name the channel without one.");
                });
        bare(true)
                .withBean("noChannelListener", NoChannelBean.class)
                .run(context -> assertStartUpFailure(
                        context.getStartupFailure(),
                        "@PgListener method noChannelListener#on names no channel",
                        "Name at least one channel: @PgListener(\"orders\")."));
    }

    /** The failure is our configuration exception with exactly this description and action, as analysed. */
    static void assertStartUpFailure(@Nullable Throwable failure, String description, String action) {
        PgListenConfigurationException cause = configurationFailure(failure);
        assertThat(cause).hasMessage(description);
        assertThat(cause.action()).isEqualTo(action);
        FailureAnalysis analysis = new PgListenFailureAnalyzer().analyze(failure);
        assertThat(analysis.getDescription()).isEqualTo(description);
        assertThat(analysis.getAction()).isEqualTo(action);
    }

    static PgListenConfigurationException configurationFailure(@Nullable Throwable failure) {
        Throwable current = failure;
        while (current != null) {
            if (current instanceof PgListenConfigurationException found) {
                return found;
            }
            current = current.getCause();
        }
        throw new AssertionError("no PgListenConfigurationException in " + failure, failure);
    }

    static class AwkwardNamesBean {

        final Map<String, List<String>> received = new ConcurrentHashMap<>();

        @PgListener({
            "${weird.0}",
            "${weird.1}",
            "${weird.2}",
            "${weird.3}",
            "${weird.4}",
            "${weird.5}",
            "${weird.6}",
            "${weird.7}",
            "${weird.8}",
            "${weird.9}",
            "${weird.10}",
            "${weird.11}",
            "${weird.12}",
            "${weird.13}",
            "${weird.14}",
            "${weird.15}",
            "${weird.16}",
            "${weird.17}",
            "${weird.18}",
            "${weird.19}",
            "${weird.20}",
            "${weird.21}",
            "${weird.22}",
            "${weird.23}"
        })
        void on(PgNotification notification) {
            received.computeIfAbsent(notification.channel(), name -> new CopyOnWriteArrayList<>())
                    .add(notification.payload());
        }
    }

    @Test
    void awkwardButValidChannelNamesFromPlaceholdersAreDeliveredExactly() {
        seed.check(() -> {
            Random random = seed.random();
            String unique = channel.substring(channel.length() - 8);
            Set<String> names = new LinkedHashSet<>(List.of(
                    "x\"; DROP TABLE t; --" + unique,
                    "'" + unique,
                    "\\" + unique,
                    "\"" + unique + "\"",
                    " " + unique + " ",
                    "\t" + unique + "\n",
                    "Orders" + unique,
                    "orders" + unique,
                    "$1" + unique,
                    "#" + unique + "{",
                    "é".repeat(27) + unique + "a",
                    "🌍".repeat(13) + unique + "abc"));
            while (names.size() < 24) {
                String name = ofUtf8Bytes(random, 1 + random.nextInt(63));
                if (!name.contains("${") && !name.contains("#{")) { // those are resolved, see the tests above
                    names.add(name);
                }
            }
            Map<String, Object> properties = new LinkedHashMap<>();
            List<String> ordered = new ArrayList<>(names);
            for (int i = 0; i < ordered.size(); i++) {
                assertThat(utf8Length(ordered.get(i))).isBetween(1, 63);
                properties.put("weird." + i, ordered.get(i));
            }
            withProperties(
                            BadInputApp.runner(channel).withBean("awkwardNamesListener", AwkwardNamesBean.class),
                            properties)
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(context.getBean(PgListenStatus.class)
                                        .snapshot()
                                        .channels()
                                        .subscribed())
                                .containsAll(names);
                        BadInputApp.awaitListening(context);
                        PgPublisher publisher = context.getBean(PgPublisher.class);
                        JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
                        for (int i = 0; i < ordered.size(); i++) {
                            publisher.notify(ordered.get(i), "#" + i);
                            jdbc.queryForList("SELECT pg_notify(?, ?)", ordered.get(i), "sql #" + i);
                        }
                        AwkwardNamesBean listener = context.getBean(AwkwardNamesBean.class);
                        await().atMost(Duration.ofSeconds(20))
                                .until(() -> listener.received.values().stream()
                                                .mapToInt(List::size)
                                                .sum()
                                        >= 2 * names.size());
                        for (int i = 0; i < ordered.size(); i++) {
                            assertThat(listener.received.get(ordered.get(i)))
                                    .as("channel #%d", i)
                                    .containsExactly("#" + i, "sql #" + i);
                        }
                        assertThat(listener.received).hasSameSizeAs(names);
                    });
        });
    }

    // ---- payloads a typed listener cannot read ----

    /** What a case is, so the test also checks that the mapper failed for the expected reason. */
    enum Kind {
        VALID,
        SYNTAX,
        SHAPE,
        NULL,
        ANY
    }

    @Test
    void unreadablePayloadsReachTheErrorHandlerNamingMethodAndChannelAndTheNextIsHandled() {
        seed.check(() -> BadInputApp.runner(channel).run(context -> {
            BadInputApp.awaitListening(context);
            JsonMapper mapper = context.getBean(JsonMapper.class);
            Random random = seed.random();
            Map<String, Kind> cases = typedCases(random, mapper);
            List<String> payloads = new ArrayList<>(cases.keySet());
            Collections.shuffle(payloads, random);
            String last = mapper.writeValueAsString(new OrderCreated(Long.MAX_VALUE, "the last one"));
            payloads.add(last);
            cases.put(last, Kind.VALID);

            String typed = channel + "-typed";
            PgPublisher publisher = context.getBean(PgPublisher.class);
            for (String payload : payloads) {
                publisher.notify(typed, payload);
            }

            Type orderType = OrderCreated.class;
            Type maybeType = BadInputListener.class.getDeclaredMethod("onMaybeOrder", Optional.class)
                    .getGenericParameterTypes()[0];
            List<Object> orders = new ArrayList<>();
            List<String> orderFailures = new ArrayList<>();
            List<Object> maybeOrders = new ArrayList<>();
            List<String> maybeFailures = new ArrayList<>();
            for (String payload : payloads) {
                Object order = expectedArgument(mapper, payload, orderType);
                if (order instanceof Throwable cause) {
                    orderFailures.add(expectedFailure("badInputListener#onOrder", orderType, typed, payload, cause));
                    assertKind(cases.get(payload), payload, cause);
                } else {
                    orders.add(order);
                    assertThat(cases.get(payload)).as("payload %s", payload).isIn(Kind.VALID, Kind.ANY);
                }
                Object maybe = expectedArgument(mapper, payload, maybeType);
                if (maybe instanceof Throwable cause) {
                    maybeFailures.add(
                            expectedFailure("badInputListener#onMaybeOrder", maybeType, typed, payload, cause));
                } else {
                    maybeOrders.add(maybe);
                }
            }

            BadInputListener listener = context.getBean(BadInputListener.class);
            RecordingErrorHandler errors = context.getBean(RecordingErrorHandler.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> listener.typedTexts.size() == payloads.size()
                            && listener.orders.size() == orders.size()
                            && listener.maybeOrders.size() == maybeOrders.size()
                            && errors.failures.size() == orderFailures.size() + maybeFailures.size());
            assertThat(listener.typedTexts).as("every payload as text").containsExactlyElementsOf(payloads);
            assertThat(new ArrayList<Object>(listener.orders)).containsExactlyElementsOf(orders);
            assertThat(new ArrayList<Object>(listener.maybeOrders)).containsExactlyElementsOf(maybeOrders);
            assertThat(errors.of("badInputListener#onOrder"))
                    .extracting(Throwable::getMessage)
                    .containsExactlyElementsOf(orderFailures);
            assertThat(errors.of("badInputListener#onMaybeOrder"))
                    .extracting(Throwable::getMessage)
                    .containsExactlyElementsOf(maybeFailures);
            assertThat(errors.failures).allSatisfy(failure -> {
                assertThat(failure.notification().channel()).isEqualTo(typed);
                assertThat(failure.getCause()).isNotNull();
            });
            assertThat(orderFailures).hasSizeGreaterThan(30);
            assertThat(orders).hasSizeGreaterThan(12);
        }));
    }

    /** Valid orders, cut JSON, malformed JSON, wrong shapes, wrong and missing fields, empty, null, random text. */
    private static Map<String, Kind> typedCases(Random random, JsonMapper mapper) {
        Map<String, Kind> cases = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) {
            cases.put(mapper.writeValueAsString(randomOrder(random)), Kind.VALID);
        }
        cases.put("{\"id\":5}", Kind.VALID); // a missing reference field is null: the mapper's rule, not ours
        for (int i = 0; i < 10; i++) {
            String json = mapper.writeValueAsString(randomOrder(random));
            int cut = 1 + random.nextInt(json.length() - 1);
            if (Character.isHighSurrogate(json.charAt(cut - 1))) {
                cut--;
            }
            cases.put(json.substring(0, cut), Kind.SYNTAX);
        }
        for (String malformed : List.of(
                "{not json",
                "{'id':1,'item':'a'}",
                "{id:1}",
                "{\"id\":1,,\"item\":\"a\"}",
                "{\"id\":01}",
                "{\"id\":NaN}",
                "{\"id\":1,\"item\":\"a\"} trailing",
                "}",
                "nul",
                "\"unterminated")) {
            cases.put(malformed, Kind.SYNTAX);
        }
        for (int i = 0; i < 3; i++) {
            cases.put("[" + random.nextInt() + "," + random.nextInt() + "]", Kind.SHAPE);
            cases.put(mapper.writeValueAsString(ofUtf8Bytes(random, random.nextInt(40))), Kind.SHAPE);
            cases.put(Long.toString(random.nextLong()), Kind.SHAPE);
        }
        cases.put("true", Kind.SHAPE);
        cases.put("[" + mapper.writeValueAsString(randomOrder(random)) + "]", Kind.SHAPE);
        cases.put("{\"id\":\"not a number\",\"item\":\"a\"}", Kind.SHAPE);
        cases.put("{\"id\":1,\"item\":{\"nested\":true}}", Kind.SHAPE);
        cases.put("{\"id\":[1],\"item\":\"a\"}", Kind.SHAPE);
        cases.put("{\"id\":99999999999999999999,\"item\":\"a\"}", Kind.ANY);
        cases.put("{\"item\":\"no id\"}", Kind.SHAPE);
        cases.put("{}", Kind.SHAPE);
        cases.put("", Kind.SHAPE);
        cases.put(" ", Kind.SHAPE);
        cases.put("\n\t ", Kind.SHAPE);
        cases.put("null", Kind.NULL);
        cases.put(" null ", Kind.NULL);
        cases.put("\nnull\t", Kind.NULL);
        for (int i = 0; i < 6; i++) {
            cases.putIfAbsent(ofUtf8Bytes(random, 1 + random.nextInt(100)), Kind.ANY);
        }
        return cases;
    }

    private static OrderCreated randomOrder(Random random) {
        return new OrderCreated(random.nextLong(), ofUtf8Bytes(random, random.nextInt(60)));
    }

    /** What the listener gets from the application's mapper, or the cause of its failure. */
    private static Object expectedArgument(JsonMapper mapper, String payload, Type type) {
        try {
            Object value = mapper.readValue(payload, mapper.constructType(type));
            return value != null
                    ? value
                    : new IllegalArgumentException(
                            "the payload reads as null; take Optional<" + type.getTypeName() + "> to accept it");
        } catch (RuntimeException ex) {
            return ex;
        }
    }

    private static String expectedFailure(String listener, Type type, String channel, String payload, Throwable cause) {
        return "@PgListener " + listener + " could not read the payload as " + type.getTypeName() + " on channel '"
                + channel + "', payload '" + PgText.preview(payload, 200) + "': " + cause;
    }

    private static void assertKind(Kind kind, String payload, Throwable cause) {
        switch (kind) {
            case SYNTAX -> assertThat(cause).as("payload %s", payload).isInstanceOf(StreamReadException.class);
            case SHAPE -> assertThat(cause).as("payload %s", payload).isInstanceOf(DatabindException.class);
            case NULL ->
                assertThat(cause).as("payload %s", payload).isExactlyInstanceOf(IllegalArgumentException.class);
            case ANY -> {}
            case VALID -> throw new AssertionError("valid payload " + payload + " failed: " + cause, cause);
        }
    }

    // ---- listeners that throw ----

    @Test
    void aListenerThatThrowsReachesTheErrorHandlerAndTheNextNotificationIsHandled() {
        seed.check(() -> BadInputApp.runner(channel).run(context -> {
            BadInputApp.awaitListening(context);
            Random random = seed.random();
            String throwing = channel + "-throws";
            List<String> kinds = List.of("ok", "runtime", "checked", "error", BadInputApp.ERROR_HANDLER_THROWS);
            List<String> payloads = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                payloads.add(kinds.get(random.nextInt(kinds.size())) + " #" + i + " "
                        + ofUtf8Bytes(random, random.nextInt(30)));
            }
            payloads.add("ok the last one");
            PgPublisher publisher = context.getBean(PgPublisher.class);
            payloads.forEach(payload -> publisher.notify(throwing, payload));

            List<String> survivors = payloads.stream()
                    .filter(payload -> payload.startsWith("ok "))
                    .toList();
            List<String> failed = payloads.stream()
                    .filter(payload -> !payload.startsWith("ok "))
                    .toList();
            BadInputListener listener = context.getBean(BadInputListener.class);
            RecordingErrorHandler errors = context.getBean(RecordingErrorHandler.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() ->
                            listener.survived.size() == survivors.size() && errors.failures.size() == failed.size());
            assertThat(listener.survived).containsExactlyElementsOf(survivors);
            assertThat(errors.failures).hasSameSizeAs(failed);
            for (int i = 0; i < failed.size(); i++) {
                String payload = failed.get(i);
                PgListenerExecutionFailedException failure = errors.failures.get(i);
                Class<? extends Throwable> type = payload.startsWith("checked ")
                        ? Exception.class
                        : payload.startsWith("error ") ? AssertionError.class : IllegalStateException.class;
                assertThat(failure.listener()).isEqualTo("badInputListener#onThrowing");
                assertThat(failure.notification().channel()).isEqualTo(throwing);
                assertThat(failure.notification().payload()).isEqualTo(payload);
                assertThat(failure.getCause()).isExactlyInstanceOf(type).hasMessage(payload);
                assertThat(failure)
                        .hasMessage("@PgListener badInputListener#onThrowing threw on channel '" + throwing
                                + "', payload '" + payload + "': " + type.getName() + ": " + payload);
            }
            assertThat(failed).hasSizeGreaterThan(20);
        }));
    }
}
