package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sessions and services that share the database must not disturb a group's election. */
class NeighboursTest {

    @RegisterExtension
    final Engines engines = Engines.onSharedServer();

    @Test
    void groupsWhoseNamesExtendEachOtherElectApart() {
        String orders = engines.group();
        String handover = orders + "/handover";
        assertThat(PgListenEngine.lockKey(handover)).isNotEqualTo(PgListenEngine.lockKey(orders));
        String channel = engines.channel("orders");
        PgListenEngine ordersEngine = engines.startWatched(channel, options -> options.group(orders));
        PgListenEngine handoverEngine = engines.startWatched(channel, options -> options.group(handover));
        // each group has its own leader: both handle what is published
        Engines.awaitSingleListeningLeader(List.of(ordersEngine));
        Engines.awaitSingleListeningLeader(List.of(handoverEngine));
        engines.notify(channel, "to both groups");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(ordersEngine).count() == 1
                        && engines.recorder(handoverEngine).count() == 1);
    }

    @Test
    void aStandbyWhoseLeaderListensToOtherChannelsSaysSo() {
        String shared = engines.channel("shared");
        String only = engines.channel("only-here");
        PgListenEngine leader = engines.startWatched(shared, options -> options);
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine other = engines.create();
        other.subscribe(shared, new Recorder());
        other.subscribe(only, new Recorder());
        other.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> other.status().listens());
        // the leader tells its channels with its progress confirmations, while notifications flow
        engines.notify(shared, "a", "b", "c");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> other.status().channels().groupWarning() != null);
        assertThat(other.status().channels().groupWarning())
                .contains("other channels")
                .contains(only);
        assertThat(leader.status().channels().groupWarning()).isNull();

        PgListenEngine same = engines.startWatched(shared, options -> options);
        await().atMost(Duration.ofSeconds(10)).until(() -> same.status().listens());
        engines.notify(shared, "d", "e");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> engines.recorder(leader).count() == 5);
        assertThat(same.status().channels().groupWarning()).isNull();
    }

    /**
     * An instance that stops closes its durable consumer, and with it the subscription to the durable channels'
     * wake-up, before its engine; a leader doing so still sends progress messages. That is no other service under the
     * same group name: nobody warns of it.
     */
    @Test
    void theDurableWakeUpChannelIsNotPartOfTheChannelsALeaderAndItsStandbysCompare() {
        String shared = engines.channel("shared");
        PgListenEngine leader = engines.create();
        leader.subscribe(shared, new Recorder());
        leader.subscribe(io.github.pgiplisten.core.durable.DurableLog.WAKE_CHANNEL, new Recorder());
        leader.start();
        Engines.awaitSingleListeningLeader(List.of(leader));
        PgListenEngine withoutWakeUps = engines.create();
        withoutWakeUps.subscribe(shared, new Recorder());
        withoutWakeUps.start();
        PgListenEngine otherService = engines.create();
        otherService.subscribe(shared, new Recorder());
        otherService.subscribe(engines.channel("elsewhere"), new Recorder());
        otherService.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> withoutWakeUps.status().listens()
                        && otherService.status().listens());
        engines.notify(shared, "a", "b", "c");
        await().atMost(Duration.ofSeconds(10))
                .alias("progress messages reached the standbys: the one with another channel warns")
                .until(() -> otherService.status().channels().groupWarning() != null);
        engines.notify(shared, "d");
        await().during(Duration.ofMillis(500))
                .atMost(Duration.ofSeconds(5))
                .until(() -> withoutWakeUps.status().channels().groupWarning() == null);
    }
}
