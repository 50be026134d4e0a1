package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgPublisher;
import io.github.pgiplisten.autoconfigure.ListenerApp.OrderListener;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.testsupport.TestPostgres;

/**
 * An application that names neither itself nor its group elects its listener in the default group, which every other
 * such application on the database shares: it starts and works, and says so once at start-up, with the fix.
 */
@ExtendWith(OutputCaptureExtension.class)
class DefaultGroupWarningTests {

    static final String WARNING = "Neither spring.application.name nor pg-ip-listen.group is set, so this application "
            + "elects its listener in the default group 'pg-ip-listen', together with every other application on this "
            + "database that sets neither: only one of them handles notifications, and the @PgListener methods of the "
            + "others never run. Set spring.application.name (or pg-ip-listen.group) to a name of this application's "
            + "own.";

    private final String channel = TestContexts.channel("unnamed");

    @Test
    void withoutANameOrAGroupStartUpWarnsOnceWithTheFixAndTheApplicationStillListens(CapturedOutput output) {
        TestContexts.unnamed(TestPostgres.shared())
                .withUserConfiguration(ListenerApp.class)
                .withPropertyValues("test.channel=" + channel)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PgListenerContainer.class).group())
                            .isEqualTo(PgListenOptions.DEFAULT_GROUP);
                    assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                            .isTrue();
                    context.getBean(PgPublisher.class).notify(channel + "-text", "handled without a name");
                    OrderListener listener = context.getBean(OrderListener.class);
                    await().atMost(Duration.ofSeconds(10)).until(() -> !listener.texts.isEmpty());
                    assertThat(listener.texts).containsExactly("handled without a name");
                });
        List<String> lines = linesWithTheWarning(output);
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains(" WARN ").endsWith(" - " + WARNING);
    }

    @Test
    void aBlankApplicationNameIsNoNameAndWarnsToo(CapturedOutput output) {
        TestContexts.unnamed(TestPostgres.shared())
                .withPropertyValues("spring.application.name= ")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PgListenerContainer.class).group())
                            .isEqualTo(PgListenOptions.DEFAULT_GROUP);
                });
        assertThat(linesWithTheWarning(output)).hasSize(1);
    }

    @Test
    void anApplicationNameOrAGroupOrBroadcastModeGivesNoWarning(CapturedOutput output) {
        TestContexts.unnamed(TestPostgres.shared())
                .withPropertyValues("spring.application.name=billing-" + channel)
                .run(context -> assertThat(
                                context.getBean(PgListenerContainer.class).group())
                        .isEqualTo("billing-" + channel));
        TestContexts.unnamed(TestPostgres.shared())
                .withPropertyValues("pg-ip-listen.group=billing-" + channel)
                .run(context -> assertThat(
                                context.getBean(PgListenerContainer.class).group())
                        .isEqualTo("billing-" + channel));
        // every instance of every application listens: a shared group elects nothing, so nothing is lost
        TestContexts.unnamed(TestPostgres.shared())
                .withPropertyValues("pg-ip-listen.one-process-listener=false")
                .run(context -> assertThat(
                                context.getBean(PgListenerContainer.class).group())
                        .isEqualTo(PgListenOptions.DEFAULT_GROUP));
        // the capture sees the containers' own log lines, so it would see the warning
        assertThat(output.getAll()).contains("No @PgListener methods");
        assertThat(linesWithTheWarning(output)).isEmpty();
    }

    private static List<String> linesWithTheWarning(CapturedOutput output) {
        return output.getAll()
                .lines()
                .filter(line -> line.contains("Neither spring.application.name"))
                .toList();
    }
}
