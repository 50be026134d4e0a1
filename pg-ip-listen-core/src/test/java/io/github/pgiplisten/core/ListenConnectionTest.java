package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ListenConnectionTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void theSessionAsksForShortKeepalivesAndBoundsLockWaits() throws Exception {
        PgListenOptions options = engines.options().tcpKeepalivesIdle(Duration.ofSeconds(4))
                .tcpKeepalivesInterval(Duration.ofSeconds(2)).tcpKeepalivesCount(2)
                .lockWaitTimeout(Duration.ofMillis(1500)).applicationName("pgil settings check").build();
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(connection.setting("tcp_keepalives_idle")).isEqualTo("4");
            assertThat(connection.setting("tcp_keepalives_interval")).isEqualTo("2");
            assertThat(connection.setting("tcp_keepalives_count")).isEqualTo("2");
            assertThat(connection.setting("tcp_user_timeout")).isEqualTo("8000");
            assertThat(connection.setting("lock_timeout")).isEqualTo("1500");
            assertThat(connection.setting("statement_timeout")).isEqualTo("0");
            assertThat(connection.setting("application_name")).isEqualTo("pgil settings check");
            assertThat(engines.server().backendPids("pgil settings check")).containsExactly(connection.backendPid());
        }
    }

    @Test
    void theTakeoverCommitsItsMarkerWithoutWaitingForTheWalButLeavesTheSessionAsItWas() throws Exception {
        // the session asks for synchronous commits (the test server's default is off)
        String url = engines.server().jdbcUrl() + "?options=-c%20synchronous_commit%3Don";
        PgListenOptions options = PgListenOptions.builder(url).username(engines.server().username())
                .password(engines.server().password()).group(engines.group()).build();
        long key = LeaderElection.lockKey(engines.group());
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(connection.awaitLockThenListenAndMark(key, key + 1, Set.of(), "m", "x"))
                    .isEqualTo(ListenConnection.Takeover.LEADING);
            // set_config(..., true) lasted only for the takeover's transaction
            assertThat(connection.setting("synchronous_commit")).isEqualTo("on");
        }
    }

    @Test
    void optionsInTheUrlAreKeptAlongsideOursInsteadOfReplacingThem() throws Exception {
        String url = engines.server().jdbcUrl() + "?options=-c%20search_path%3Dpg_catalog&ApplicationName=ignored";
        PgListenOptions options = PgListenOptions.builder(url).username(engines.server().username())
                .password(engines.server().password()).group(engines.group()).applicationName("pgil url options")
                .build();
        try (ListenConnection connection = ListenConnection.open(options)) {
            assertThat(connection.setting("search_path")).isEqualTo("pg_catalog");
            assertThat(connection.setting("tcp_keepalives_idle")).isEqualTo("5");
            assertThat(connection.setting("application_name")).isEqualTo("pgil url options");
        }
    }

    @Test
    void lockWaitsEndAfterLockTimeoutAndTheHandoverLockTellsWhetherAPredecessorIsBusy() throws Exception {
        PgListenOptions options = engines.options().lockWaitTimeout(Duration.ofMillis(200)).build();
        long key = LeaderElection.lockKey(engines.group());
        try (ListenConnection holder = ListenConnection.open(options);
                ListenConnection waiter = ListenConnection.open(options)) {
            assertThat(holder.awaitRelease(key)).isTrue(); // free: taken and released at once
            assertThat(holder.awaitLockThenListenAndMark(key, key + 1, Set.of(), "m", "x"))
                    .isEqualTo(ListenConnection.Takeover.LEADING);
            assertThat(waiter.awaitLockThenListenAndMark(key, key + 1, Set.of(), "m", "y"))
                    .isEqualTo(ListenConnection.Takeover.NOT_YET);
            // a leader does not hold the handover lock, so one that dies leaves nothing that looks like a handover
            assertThat(waiter.awaitRelease(key + 1)).isTrue();
            holder.handOver(key, key + 1);
            assertThat(waiter.awaitLockThenListenAndMark(key, key + 1, Set.of(), "m", "z"))
                    .isEqualTo(ListenConnection.Takeover.PREDECESSOR_HANDING_OVER);
            assertThat(holder.releaseLock(key + 1)).isTrue();
            assertThat(waiter.awaitRelease(key + 1)).isTrue();
        }
    }
}
