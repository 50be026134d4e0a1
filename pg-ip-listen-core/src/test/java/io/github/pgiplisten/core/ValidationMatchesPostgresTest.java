package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.github.pgiplisten.testsupport.Seed;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * Generated channel names and payloads around PostgreSQL's limits, with one-, two-, three- and four-byte characters:
 * what the validation accepts PostgreSQL accepts, and what it rejects for size PostgreSQL rejects too (checked with
 * {@code pg_notify} in a transaction that is rolled back, so nothing is delivered).
 */
class ValidationMatchesPostgresTest {

    private static final String[] ALPHABET = {"a", "Z", " ", "\"", "'", "\\", ";", "é", "ß", "€", "日", "🌍", "😀"};

    private final Seed seed = Seed.fromSystemProperty();

    private final Random random = seed.random();

    @Test
    void channelNamesAroundSixtyThreeBytes() {
        seed.check(() -> {
            int accepted = 0;
            int rejected = 0;
            try (Connection connection = TestPostgres.shared().connect()) {
                connection.setAutoCommit(false);
                for (int i = 0; i < 400; i++) {
                    String channel = randomText(20 + random.nextInt(26)); // about 38 to 86 bytes
                    int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
                    boolean ours = accepts(() -> ChannelName.validate(channel));
                    boolean postgres = postgresAccepts(connection, channel, "p");
                    assertThat(ours).as("%d-byte channel %s", bytes, channel).isEqualTo(bytes <= 63);
                    assertThat(postgres)
                            .as("PostgreSQL on the %d-byte channel %s", bytes, channel)
                            .isEqualTo(ours);
                    if (ours) {
                        accepted++;
                    } else {
                        rejected++;
                    }
                }
            }
            assertThat(accepted).isGreaterThan(50);
            assertThat(rejected).isGreaterThan(50);
        });
    }

    @Test
    void payloadsAroundEightThousandBytes() {
        seed.check(() -> {
            int accepted = 0;
            int rejected = 0;
            try (Connection connection = TestPostgres.shared().connect()) {
                connection.setAutoCommit(false);
                for (int i = 0; i < 300; i++) {
                    String payload = randomText(3700 + random.nextInt(900)); // about 7100 to 8800 bytes
                    int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
                    boolean ours = accepts(() -> Payload.validate("c", payload));
                    boolean postgres = postgresAccepts(connection, "c", payload);
                    assertThat(ours).as("%d-byte payload", bytes).isEqualTo(bytes <= 7999);
                    assertThat(postgres)
                            .as("PostgreSQL on a %d-byte payload", bytes)
                            .isEqualTo(ours);
                    if (ours) {
                        accepted++;
                    } else {
                        rejected++;
                    }
                }
            }
            assertThat(accepted).isGreaterThan(30);
            assertThat(rejected).isGreaterThan(30);
        });
    }

    @Test
    void everyByteLengthAtTheLimitsWithMultibyteCharacters() throws SQLException {
        try (Connection connection = TestPostgres.shared().connect()) {
            connection.setAutoCommit(false);
            for (String wide : new String[] {"é", "€", "🌍"}) {
                int width = wide.getBytes(StandardCharsets.UTF_8).length;
                for (int bytes = 60; bytes <= 66; bytes++) {
                    String channel = "a".repeat(bytes % width) + wide.repeat(bytes / width);
                    boolean ours = accepts(() -> ChannelName.validate(channel));
                    assertThat(ours).as("%d-byte channel", bytes).isEqualTo(bytes <= 63);
                    assertThat(postgresAccepts(connection, channel, "p"))
                            .as("%d-byte channel", bytes)
                            .isEqualTo(ours);
                }
                for (int bytes = 7995; bytes <= 8003; bytes++) {
                    String payload = "a".repeat(bytes % width) + wide.repeat(bytes / width);
                    boolean ours = accepts(() -> Payload.validate("c", payload));
                    assertThat(ours).as("%d-byte payload", bytes).isEqualTo(bytes <= 7999);
                    assertThat(postgresAccepts(connection, "c", payload))
                            .as("%d-byte payload", bytes)
                            .isEqualTo(ours);
                }
            }
        }
    }

    private String randomText(int characters) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < characters; i++) {
            text.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return text.toString();
    }

    private static boolean accepts(Runnable validation) {
        try {
            validation.run();
            return true;
        } catch (InvalidNotificationException ex) {
            return false;
        }
    }

    private static boolean postgresAccepts(Connection connection, String channel, String payload) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, payload);
            statement.execute();
            return true;
        } catch (SQLException ex) {
            // 22023: invalid_parameter_value ("channel name too long", "payload string too long")
            assertThat(ex.getSQLState()).isEqualTo("22023");
            return false;
        } finally {
            connection.rollback();
        }
    }
}
