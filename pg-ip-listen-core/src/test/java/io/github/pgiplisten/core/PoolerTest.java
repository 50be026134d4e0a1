package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.github.pgiplisten.testsupport.TransactionPooler;

/**
 * A pooler in transaction mode (PgBouncer's {@code pool_mode = transaction}) cannot keep a LISTEN or a session lock:
 * the engine says so and keeps retrying with its backoff instead of electing on sessions that come and go.
 */
class PoolerTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void aPoolerInTransactionModeIsReportedAndNeverElected() throws Exception {
        try (TransactionPooler pooler =
                TransactionPooler.before(engines.server().jdbcUrl())) {
            PgListenEngine engine = engines.create(options -> engines.optionsVia(
                            pooler.pooledUrl(engines.server().jdbcUrl()), "pooled")
                    .reconnectMaxDelay(Duration.ofMillis(200)));
            List<Role> roles = new ArrayList<>();
            engine.subscribe(engines.channel("pooled"), new Recorder());
            engine.start();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> engine.status().connection().lastFailure() != null);
            assertThat(engine.status().connection().lastFailure())
                    .contains("transaction mode")
                    .contains("pg-ip-listen.url");
            for (int i = 0; i < 20; i++) {
                roles.add(engine.status().role());
                assertThat(engine.status().listens()).isFalse();
                Thread.sleep(50);
            }
            assertThat(roles).doesNotContain(Role.LEADER);
            assertThat(engines.server().backendPids(engine.options().applicationName()))
                    .hasSizeLessThanOrEqualTo(2);
        }
    }
}
