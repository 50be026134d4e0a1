package io.github.pgiplisten.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.TypeReference;
import org.springframework.aot.hint.predicate.ReflectionHintsPredicates;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.boot.SpringApplicationAotProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.aot.AbstractAotProcessor.Settings;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.autoconfigure.PgListenProperties;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.connection.WakeableSocketFactory;

/**
 * The sample application through Spring Boot's AOT processing, exactly as {@code spring-boot:process-aot} runs it
 * before a native build (its {@code main} method, stopped once the context is loaded), and the hints the native image
 * would be built with. The demo's own listener takes its payload as a {@code String}; the application is processed
 * with one more configuration class (through {@code spring.main.sources}, as a command-line argument) whose listeners
 * read JSON, so that binding hints can be checked too. Processing creates no bean and connects to nothing.
 */
class SampleApplicationAotTests {

    private static final ReflectionHintsPredicates reflection = RuntimeHintsPredicates.reflection();

    record OrderLine(String item, int quantity) {}

    record OrderPlaced(long id, List<OrderLine> lines) {}

    record Refund(long orderId, String reason) {}

    static class JsonListeners {

        @PgListener("orders")
        void onOrder(OrderPlaced order, PgNotification notification) {}

        @PgListener("refunds")
        void onRefunds(List<Refund> refunds) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class JsonListenerConfiguration {

        @Bean
        JsonListeners jsonListeners() {
            return new JsonListeners();
        }
    }

    static RuntimeHints hints;

    static Path generated;

    @BeforeAll
    static void processAheadOfTime(@TempDir Path output) {
        Settings settings = Settings.builder()
                .sourceOutput(output.resolve("sources"))
                .resourceOutput(output.resolve("resources"))
                .classOutput(output.resolve("classes"))
                .groupId("io.github.pgiplisten")
                .artifactId("sample-app")
                .build();
        AtomicReference<RuntimeHints> written = new AtomicReference<>();
        String[] arguments = {"--spring.main.sources=" + JsonListenerConfiguration.class.getName()};
        new SpringApplicationAotProcessor(SampleApplication.class, settings, arguments) {
            @Override
            protected void writeHints(RuntimeHints runtimeHints) {
                super.writeHints(runtimeHints);
                written.set(runtimeHints);
            }
        }.process();
        hints = written.get();
        generated = output;
    }

    @Test
    void theDemoListenerCanBeInvoked() {
        assertThat(reflection.onMethodInvocation(DemoListener.class, "onMessage"))
                .accepts(hints);
    }

    @Test
    void jsonListenersCanBeInvokedAndTheirPayloadsBound() {
        assertThat(reflection.onMethodInvocation(JsonListeners.class, "onOrder"))
                .accepts(hints);
        assertThat(reflection.onMethodInvocation(JsonListeners.class, "onRefunds"))
                .accepts(hints);
        assertThat(binding(OrderPlaced.class)).accepts(hints);
        assertThat(reflection.onMethodInvocation(OrderPlaced.class, "lines")).accepts(hints);
        assertThat(binding(OrderLine.class)).accepts(hints);
        assertThat(reflection.onMethodInvocation(OrderLine.class, "quantity")).accepts(hints);
        assertThat(binding(Refund.class)).accepts(hints);
        assertThat(reflection.onType(PgNotification.class)).rejects(hints);
    }

    @Test
    void theDriverCanCreateTheListenConnectionsSocketFactory() throws NoSuchMethodException {
        assertThat(reflection.onConstructorInvocation(WakeableSocketFactory.class.getConstructor(String.class)))
                .accepts(hints);
    }

    @Test
    void thePropertiesCanBeBoundAndTheFailureAnalyzerCreated() {
        assertThat(reflection.onMethodInvocation(PgListenProperties.class, "setOneProcessListener"))
                .accepts(hints);
        assertThat(reflection.onMethodInvocation(PgListenProperties.TcpKeepalives.class, "setIdle"))
                .accepts(hints);
        assertThat(reflection
                        .onType(TypeReference.of("io.github.pgiplisten.autoconfigure.PgListenFailureAnalyzer"))
                        .withMemberCategory(MemberCategory.INVOKE_DECLARED_CONSTRUCTORS))
                .accepts(hints);
    }

    @Test
    void theHintsAreWrittenWhereNativeImageReadsThem() throws Exception {
        Path metadata = generated.resolve(
                "resources/META-INF/native-image/io.github.pgiplisten/sample-app/reachability-metadata.json");
        assertThat(metadata).exists();
        assertThat(Files.readString(metadata))
                .contains(WakeableSocketFactory.class.getName(), DemoListener.class.getName(), "onMessage");
    }

    private static Predicate<RuntimeHints> binding(Class<?> type) {
        return reflection
                .onType(type)
                .withMemberCategories(
                        MemberCategory.INVOKE_DECLARED_CONSTRUCTORS, MemberCategory.ACCESS_DECLARED_FIELDS);
    }
}
