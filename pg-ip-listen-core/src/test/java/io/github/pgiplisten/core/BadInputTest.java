package io.github.pgiplisten.core;

import static io.github.pgiplisten.testsupport.GeneratedText.ofUtf8Bytes;
import static io.github.pgiplisten.testsupport.GeneratedText.utf8Length;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.testsupport.GeneratedText;
import io.github.pgiplisten.testsupport.Seed;

/**
 * Bad input at every entry point of the core, in generated cases: channel names through {@link ChannelName},
 * {@link PgListenEngine#subscribe} and {@link PgNotifier}; payloads through {@link PgNotifier}; options through
 * {@link PgListenOptions}. Each rejected case gets its exact exception (type and message, written here from the rules,
 * not from the code); each valid but awkward name or payload arrives exactly as sent. A rejection sends nothing: the
 * rejected cases run inside one open transaction between two valid notifications, and the transaction commits and
 * delivers exactly those two (a statement PostgreSQL had refused would have aborted it).
 */
class BadInputTest {

    /**
     * pgjdbc warns through java.util.logging, straight to the console, about each unreadable URL these tests give on
     * purpose; held here so the setting lasts (java.util.logging keeps its loggers only weakly).
     */
    private static final java.util.logging.Logger PGJDBC_LOG = java.util.logging.Logger.getLogger("org.postgresql");

    static {
        PGJDBC_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    private static final String URL = "jdbc:postgresql://localhost/app";

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    private final Seed seed = Seed.fromSystemProperty();

    /** An exception a case must throw, exactly. */
    record Expected(Class<? extends Throwable> type, String message) {

        void assertThrownBy(String what, ThrowingCallable call) {
            assertThat(catchThrowable(call)).as(what).isExactlyInstanceOf(type).hasMessage(message);
        }
    }

    // ---- channel names ----

    @Test
    void invalidChannelNamesAreRejectedAtEveryEntryPointAndNothingIsSent() {
        seed.check(() -> {
            Random random = seed.random();
            List<@Nullable String> names = invalidChannelNames(random);
            String channel = engines.channel("names");
            PgListenEngine engine = engines.startWatched(channel, options -> options);
            Engines.awaitSingleListeningLeader(List.of(engine));

            try (Connection connection = engines.server().connect()) {
                connection.setAutoCommit(false);
                PgNotifier.notify(connection, channel, "before");
                for (String name : names) {
                    Expected expected = expectedChannelError(name);
                    String what = "channel " + escape(name);
                    expected.assertThrownBy(what, () -> ChannelName.validate(name));
                    expected.assertThrownBy(what, () -> ChannelName.quote(name));
                    expected.assertThrownBy(what, () -> engine.subscribe(name, notification -> {}));
                    expected.assertThrownBy(what, () -> PgNotifier.notify(connection, name, "payload"));
                    // the channel is checked first: a bad payload changes nothing
                    expected.assertThrownBy(what, () -> PgNotifier.notify(connection, name, "\0"));
                    if (expected.type() == ChannelNameTooLongException.class) {
                        assertThatThrownBy(() -> ChannelName.validate(name))
                                .as(what)
                                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.type(
                                        ChannelNameTooLongException.class))
                                .extracting(ChannelNameTooLongException::actualBytes)
                                .isEqualTo(utf8Length(name));
                    }
                }
                assertThatThrownBy(() -> engine.subscribe(channel, null))
                        .isExactlyInstanceOf(NullPointerException.class)
                        .hasMessage("handler must not be null");
                PgNotifier.notify(connection, channel, "after");
                connection.commit();
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> engines.recorder(engine).count() >= 2);
            assertThat(engines.recorder(engine).payloads()).containsExactly("before", "after");
            assertThat(engine.status().channels().subscribed()).containsExactly(channel);
            assertThat(names).hasSizeGreaterThan(60);
        });
    }

    @Test
    void awkwardButValidChannelNamesAreListenedToAndDeliveredExactly() {
        seed.check(() -> {
            Random random = seed.random();
            String table = "bad_input_" + engines.channel("t").replace('-', '_');
            Set<String> names = new LinkedHashSet<>(List.of(
                    "x\"; DROP TABLE " + table + "; --",
                    "'); DROP TABLE " + table + "; --",
                    "\"",
                    "\"\"",
                    "'",
                    "\\",
                    "\\\"",
                    " ",
                    "\t",
                    "\n",
                    "\r\n",
                    " padded ",
                    "$1",
                    "?",
                    "%s",
                    "{fn now()}",
                    "/*",
                    "*/",
                    "--",
                    ";",
                    "Orders",
                    "orders",
                    "ORDERS",
                    "é",
                    "e\u0301",
                    "\u0001",
                    "\u007f",
                    "\u200b",
                    "\ufeff",
                    "\u202eright-to-left",
                    "LISTEN",
                    "a".repeat(63),
                    "é".repeat(31) + "a",
                    "€".repeat(21),
                    "🌍".repeat(15) + "abc"));
            for (int i = 0; i < 30; i++) {
                names.add(ofUtf8Bytes(random, 1 + random.nextInt(63)));
            }
            try (Connection connection = engines.server().connect();
                    Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE " + table + " (id int)");
            }
            PgListenEngine engine = engines.create();
            Map<String, List<String>> received = new ConcurrentHashMap<>();
            for (String name : names) {
                assertThat(ChannelName.validate(name)).isSameAs(name);
                engine.subscribe(
                        name,
                        notification -> received.computeIfAbsent(
                                        notification.channel(), key -> new CopyOnWriteArrayList<>())
                                .add(notification.payload()));
            }
            engine.start();
            Engines.awaitSingleListeningLeader(List.of(engine));
            Map<String, String> sent = new LinkedHashMap<>();
            try (Connection connection = engines.server().connect()) {
                int i = 0;
                for (String name : names) {
                    String payload = "to #" + i++ + " " + name;
                    sent.put(name, payload);
                    PgNotifier.notify(connection, name, payload);
                }
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> received.values().stream().mapToInt(List::size).sum() >= names.size());
            for (String name : names) {
                assertThat(received.get(name)).as("channel %s", escape(name)).containsExactly(sent.get(name));
            }
            assertThat(received).hasSameSizeAs(names);
            try (Connection connection = engines.server().connect();
                    Statement statement = connection.createStatement();
                    ResultSet result = statement.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
                assertThat(result.next() && result.getBoolean(1))
                        .as("table %s still exists", table)
                        .isTrue();
                statement.execute("DROP TABLE " + table);
            }
        });
    }

    /** Null, empty, too long (1- to 4-byte characters), NUL anywhere, lone surrogates anywhere. */
    private static List<@Nullable String> invalidChannelNames(Random random) {
        List<@Nullable String> names = new ArrayList<>();
        names.add(null);
        names.add("");
        names.add("\0");
        names.add("\uD800");
        names.add("\uDC00\uD800");
        names.add(ofUtf8Bytes(random, 10_000));
        for (int width = 1; width <= 4; width++) {
            names.add(ofUtf8Bytes(random, 64, width));
            for (int i = 0; i < 5; i++) {
                names.add(ofUtf8Bytes(random, 64 + random.nextInt(20), width));
            }
        }
        for (int i = 0; i < 10; i++) {
            names.add(ofUtf8Bytes(random, 64 + random.nextInt(40)));
        }
        for (int i = 0; i < 12; i++) {
            boolean tooLong = i % 3 == 0;
            names.add(
                    insert(random, ofUtf8Bytes(random, tooLong ? 64 + random.nextInt(40) : random.nextInt(63)), "\0"));
        }
        for (int i = 0; i < 12; i++) {
            names.add(insert(random, ofUtf8Bytes(random, random.nextInt(60)), loneSurrogate(random)));
        }
        return names;
    }

    /**
     * What PostgreSQL's rules say about a channel name: null or empty is invalid; the first NUL or lone surrogate is
     * named by its index; a name without either is too long above 63 UTF-8 bytes.
     */
    static Expected expectedChannelError(@Nullable String name) {
        if (name == null) {
            return new Expected(InvalidChannelNameException.class, "Channel name must not be null");
        }
        if (name.isEmpty()) {
            return new Expected(InvalidChannelNameException.class, "Channel name must not be empty");
        }
        String what = "Channel name '" + preview(name) + "'";
        String unstorable = unstorable(what, name);
        if (unstorable != null) {
            return new Expected(InvalidChannelNameException.class, unstorable);
        }
        int bytes = utf8Length(name);
        if (bytes > 63) {
            return new Expected(
                    ChannelNameTooLongException.class,
                    "Channel name is " + bytes + " bytes in UTF-8; PostgreSQL allows at most 63 bytes: '"
                            + preview(name) + "'");
        }
        throw new IllegalArgumentException("not an invalid channel name: " + escape(name));
    }

    // ---- payloads ----

    @Test
    void payloadsAtTheLimitArriveWholeAndBadOnesAreRejectedExactlyWithNothingSent() {
        seed.check(() -> {
            Random random = seed.random();
            List<@Nullable String> payloads = payloads(random);
            String channel = engines.channel("payloads");
            PgListenEngine engine = engines.startWatched(channel, options -> options);
            Engines.awaitSingleListeningLeader(List.of(engine));

            List<String> accepted = new ArrayList<>();
            int rejected = 0;
            try (Connection connection = engines.server().connect()) {
                connection.setAutoCommit(false);
                for (String payload : payloads) {
                    Expected expected = expectedPayloadError(channel, payload);
                    if (expected == null) {
                        assertThat(Payload.validate(channel, payload)).isSameAs(payload);
                        PgNotifier.notify(connection, channel, payload);
                        accepted.add(payload);
                        continue;
                    }
                    rejected++;
                    String what = "payload of " + (payload == null ? "null" : utf8Length(payload) + " bytes");
                    expected.assertThrownBy(what, () -> Payload.validate(channel, payload));
                    expected.assertThrownBy(what, () -> PgNotifier.notify(connection, channel, payload));
                    if (expected.type() == PayloadTooLargeException.class) {
                        assertThatThrownBy(() -> Payload.validate(channel, payload))
                                .as(what)
                                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.type(
                                        PayloadTooLargeException.class))
                                .extracting(PayloadTooLargeException::actualBytes)
                                .isEqualTo(utf8Length(payload));
                    }
                }
                PgNotifier.notify(connection, channel, "end");
                connection.commit();
            }
            accepted.add("end");
            Recorder recorder = engines.recorder(engine);
            await().atMost(Duration.ofSeconds(20)).until(() -> recorder.count() >= accepted.size());
            assertThat(recorder.payloads()).containsExactlyElementsOf(accepted);
            // whatever the seed: ten of 7999 bytes, the empty one, five short ones and "end" pass; ten of 8000, ten
            // of 8001, nine with NUL, six with a lone surrogate, null and four huge ones do not
            assertThat(accepted).hasSizeGreaterThanOrEqualTo(17);
            assertThat(rejected).isGreaterThanOrEqualTo(40);
        });
    }

    /**
     * 7999, 8000 and 8001 bytes of each character width and of mixed widths, sizes around the limit, small ones, NUL
     * and lone surrogates anywhere (also in oversize payloads, where they are reported first), null, and 10 MB ones.
     */
    private static List<@Nullable String> payloads(Random random) {
        List<@Nullable String> payloads = new ArrayList<>();
        for (int bytes = 7999; bytes <= 8001; bytes++) {
            for (int width = 1; width <= 4; width++) {
                payloads.add(ofUtf8Bytes(random, bytes, width));
            }
            for (int i = 0; i < 6; i++) {
                payloads.add(ofUtf8Bytes(random, bytes));
            }
        }
        for (int i = 0; i < 10; i++) {
            payloads.add(ofUtf8Bytes(random, 7990 + random.nextInt(20)));
        }
        payloads.add("");
        for (int i = 0; i < 5; i++) {
            payloads.add(ofUtf8Bytes(random, 1 + random.nextInt(200)));
        }
        for (int i = 0; i < 9; i++) {
            payloads.add(insert(
                    random, ofUtf8Bytes(random, i < 6 ? random.nextInt(7999) : 8000 + random.nextInt(99)), "\0"));
        }
        for (int i = 0; i < 6; i++) {
            payloads.add(insert(random, ofUtf8Bytes(random, random.nextInt(7995)), loneSurrogate(random)));
        }
        payloads.add(null);
        payloads.add("a".repeat(10_000_000));
        payloads.add("🌍".repeat(2_500_000));
        payloads.add("a".repeat(9_999_999) + "\0");
        payloads.add("€".repeat(3_333_333) + "\uDBFF");
        return payloads;
    }

    /** What NOTIFY's rules say about a payload; null when it is valid. */
    static @Nullable Expected expectedPayloadError(String channel, @Nullable String payload) {
        String what = "Payload for channel '" + preview(channel) + "'";
        if (payload == null) {
            return new Expected(
                    InvalidPayloadException.class, what + " must not be null; send \"\" for an empty payload");
        }
        String unstorable = unstorable(what, payload);
        if (unstorable != null) {
            return new Expected(InvalidPayloadException.class, unstorable);
        }
        int bytes = utf8Length(payload);
        if (bytes >= 8000) {
            return new Expected(
                    PayloadTooLargeException.class,
                    "Payload for channel '" + preview(channel) + "' is " + bytes
                            + " bytes in UTF-8; NOTIFY accepts at most 7999 bytes (less than 8000)");
        }
        return null;
    }

    // ---- options ----

    @Test
    void optionsOutOfRangeAreRejectedNamingTheOptionAndTheValue() {
        seed.check(() -> {
            Random random = seed.random();
            Map<String, BiFunction<PgListenOptions.Builder, Duration, PgListenOptions.Builder>> durations =
                    new LinkedHashMap<>();
            durations.put("probeInterval", PgListenOptions.Builder::probeInterval);
            durations.put("probeTimeout", PgListenOptions.Builder::probeTimeout);
            durations.put("lockWaitTimeout", PgListenOptions.Builder::lockWaitTimeout);
            durations.put("tcpKeepalivesIdle", PgListenOptions.Builder::tcpKeepalivesIdle);
            durations.put("tcpKeepalivesInterval", PgListenOptions.Builder::tcpKeepalivesInterval);
            durations.put("reconnectInitialDelay", PgListenOptions.Builder::reconnectInitialDelay);
            durations.put("reconnectMaxDelay", PgListenOptions.Builder::reconnectMaxDelay);
            durations.put("shutdownTimeout", PgListenOptions.Builder::shutdownTimeout);
            durations.put("progressInterval", PgListenOptions.Builder::progressInterval);
            int cases = 0;
            for (var option : durations.entrySet()) {
                String name = option.getKey();
                boolean wholeSeconds = name.startsWith("tcpKeepalives");
                for (Duration value : badDurations(random, wholeSeconds)) {
                    String message = expectedDurationError(name, value, wholeSeconds);
                    assertThat(catchThrowable(() -> option.getValue()
                                    .apply(PgListenOptions.builder(URL), value)
                                    .build()))
                            .as("%s = %s", name, value)
                            .isExactlyInstanceOf(IllegalArgumentException.class)
                            .hasMessage(message);
                    cases++;
                }
                for (Duration value : List.of(PgListenOptions.MIN_DURATION, PgListenOptions.MAX_DURATION)) {
                    if (!wholeSeconds && !name.equals("reconnectMaxDelay")) {
                        PgListenOptions.Builder builder =
                                PgListenOptions.builder(URL).reconnectMaxDelay(PgListenOptions.MAX_DURATION);
                        assertThat(option.getValue().apply(builder, value).build())
                                .as("%s = %s", name, value)
                                .isNotNull();
                    }
                }
            }
            for (int i = 0; i < 10; i++) {
                int count = i == 0 ? 0 : i == 1 ? Integer.MIN_VALUE : -random.nextInt(Integer.MAX_VALUE);
                assertThatThrownBy(() -> PgListenOptions.builder(URL)
                                .tcpKeepalivesCount(count)
                                .build())
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("tcpKeepalivesCount must be at least 1, got: " + count);
                cases++;
            }
            for (int i = 0; i < 10; i++) {
                Duration max = Duration.ofMillis(1 + random.nextInt(100_000));
                Duration initial = max.plusNanos(1 + random.nextInt(Integer.MAX_VALUE));
                assertThatThrownBy(() -> PgListenOptions.builder(URL)
                                .reconnectInitialDelay(initial)
                                .reconnectMaxDelay(max)
                                .build())
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("reconnectMaxDelay (" + max + ") must not be shorter than reconnectInitialDelay ("
                                + initial + ")");
                cases++;
            }
            for (String group : new String[] {null, "", " ", "\t", "\n \r"}) {
                assertThatThrownBy(
                                () -> PgListenOptions.builder(URL).group(group).build())
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("group must not be null or blank, got: "
                                + (group == null ? "null" : "'" + group + "'"));
                cases++;
            }
            assertThatThrownBy(() ->
                            PgListenOptions.builder(URL).applicationName("").build())
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("applicationName must not be empty");
            assertThatThrownBy(() ->
                            PgListenOptions.builder(URL).errorHandler(null).build())
                    .isExactlyInstanceOf(NullPointerException.class)
                    .hasMessage("errorHandler must not be null");
            assertThatThrownBy(() -> PgListenOptions.builder(URL).observer(null).build())
                    .isExactlyInstanceOf(NullPointerException.class)
                    .hasMessage("observer must not be null");
            for (String url : notPostgresqlUrls()) {
                assertThat(catchThrowable(() -> PgListenOptions.builder(url).build()))
                        .as(url)
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage(
                                "jdbcUrl must be a PostgreSQL JDBC URL starting with 'jdbc:postgresql:', got: " + url);
                cases++;
            }
            assertThatThrownBy(() -> PgListenOptions.builder(null).build())
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("jdbcUrl must be a PostgreSQL JDBC URL starting with 'jdbc:postgresql:', got: null");
            for (String url : unreadablePostgresqlUrls()) {
                assertThat(catchThrowable(() -> PgListenOptions.builder(url).build()))
                        .as(url)
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("jdbcUrl is not a URL the PostgreSQL driver can read (a port from 1 to 65535, "
                                + "%-encoded options), got: " + url);
                cases++;
            }
            assertThat(cases).isGreaterThan(150);
        });
    }

    /** Null, zero, negative, below a millisecond, above 2^31-1 ms; for whole-second options also fractions. */
    private static List<@Nullable Duration> badDurations(Random random, boolean wholeSeconds) {
        List<@Nullable Duration> values = new ArrayList<>();
        values.add(null);
        values.add(Duration.ZERO);
        values.add(Duration.ofNanos(-1));
        values.add(Duration.ofNanos(999_999));
        values.add(PgListenOptions.MAX_DURATION.plusNanos(1));
        values.add(Duration.ofSeconds(Long.MAX_VALUE));
        values.add(Duration.ofSeconds(Long.MIN_VALUE));
        for (int i = 0; i < 3; i++) {
            values.add(Duration.ofNanos(-1 - (random.nextLong() >>> 1)));
            values.add(Duration.ofNanos(1 + random.nextInt(999_999)));
            values.add(PgListenOptions.MAX_DURATION.plusMillis(1 + (random.nextLong() >>> 24)));
        }
        if (wholeSeconds) {
            values.add(Duration.ofMillis(1 + random.nextInt(999)));
            values.add(Duration.ofMillis(1000L * (1 + random.nextInt(100)) + 1 + random.nextInt(999)));
            values.add(Duration.ofSeconds(1, 1));
        }
        return values;
    }

    private static String expectedDurationError(String name, @Nullable Duration value, boolean wholeSeconds) {
        if (value == null) {
            return name + " must not be null";
        }
        if (value.isNegative() || value.isZero()) {
            return name + " must be positive, got: " + value;
        }
        if (value.compareTo(Duration.ofMillis(1)) < 0) {
            return name + " must be at least 1 ms, got: " + value;
        }
        if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            return name + " must be at most PT596H31M23.647S (2^31-1 ms), got: " + value;
        }
        if (wholeSeconds && (value.getNano() != 0 || value.getSeconds() < 1)) {
            return name + " must be a whole number of seconds (PostgreSQL's unit), at least 1 s, got: " + value;
        }
        throw new IllegalArgumentException(name + " = " + value + " is valid");
    }

    /** URLs of other databases, and of nothing. */
    static List<String> notPostgresqlUrls() {
        return List.of(
                "jdbc:mysql://localhost:3306/app",
                "jdbc:h2:mem:app",
                "jdbc:oracle:thin:@localhost:1521:xe",
                "postgresql://localhost:5432/app",
                "postgres://user:secret@localhost/app",
                "JDBC:POSTGRESQL://localhost/app",
                "jdbc:postgres://localhost/app",
                "jdbc:postgresql",
                "garbage",
                "",
                " jdbc:postgresql://localhost/app",
                "jdbc:pgsql://localhost/app");
    }

    /** URLs with the right prefix that the driver cannot read. */
    static List<String> unreadablePostgresqlUrls() {
        return List.of(
                "jdbc:postgresql://localhost:99999/app",
                "jdbc:postgresql://localhost:0/app",
                "jdbc:postgresql://localhost:-1/app",
                "jdbc:postgresql://localhost:port/app",
                "jdbc:postgresql://localhost:/app",
                "jdbc:postgresql://a:5432,b:x/app",
                "jdbc:postgresql://localhost/app?options=%",
                "jdbc:postgresql://localhost/app?user=%zz");
    }

    // ---- shared ----

    /** The message part naming the first NUL or lone surrogate, or null when there is none. */
    private static @Nullable String unstorable(String what, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                return what + " contains a NUL character at index " + i + "; PostgreSQL text cannot hold NUL";
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return what + " contains an unpaired UTF-16 surrogate at index " + i + "; it has no UTF-8 form";
            }
        }
        return null;
    }

    /** Messages show the first 80 chars, then the length. */
    private static String preview(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "… (" + text.length() + " chars)";
    }

    private static String insert(Random random, String text, String inserted) {
        int at = random.nextInt(text.length() + 1);
        // not between the halves of a surrogate pair, which would make the lone surrogate the first problem
        if (at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at))) {
            at--;
        }
        return text.substring(0, at) + inserted + text.substring(at);
    }

    private static String loneSurrogate(Random random) {
        return String.valueOf(
                (char) (random.nextBoolean() ? 0xD800 + random.nextInt(0x400) : 0xDC00 + random.nextInt(0x400)));
    }

    /** A name readable in a failure message: control characters and surrogates as escapes. */
    static String escape(@Nullable String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder escaped = new StringBuilder("\"");
        text.codePoints().limit(100).forEach(codePoint -> {
            if (codePoint < 0x20
                    || codePoint == 0x7f
                    || Character.isSurrogate((char) codePoint) && Character.charCount(codePoint) == 1) {
                escaped.append(String.format("\\u%04x", codePoint));
            } else {
                escaped.appendCodePoint(codePoint);
            }
        });
        return escaped.append(text.length() > 100 ? "\"… (" + text.length() + " chars)" : "\"")
                .toString();
    }

    static {
        // the pools must not hold what they are meant to avoid
        for (List<String> pool : List.of(
                GeneratedText.ONE_BYTE, GeneratedText.TWO_BYTES, GeneratedText.THREE_BYTES, GeneratedText.FOUR_BYTES)) {
            for (String character : pool) {
                if (character.indexOf('\0') >= 0 || unstorable("", character) != null) {
                    throw new IllegalStateException("bad pool character " + escape(character));
                }
            }
        }
    }
}
