package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.predicate.ReflectionHintsPredicates;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.javapoet.ClassName;
import org.springframework.util.ReflectionUtils;

import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.connection.WakeableSocketFactory;

/**
 * The hints a native image of an application with pg-ip-listen is built with: Spring's AOT processing of a context
 * with the auto-configuration and a few listener beans, as {@code spring-boot:process-aot} runs it. AOT processing
 * reads bean definitions and creates no bean, so no server is needed (nothing connects to the URL).
 */
class NativeImageHintsTests {

    private static final ReflectionHintsPredicates reflection = RuntimeHintsPredicates.reflection();

    record Item(String sku, int quantity) {}

    record OrderPlaced(long id, List<Item> items) {}

    record Refund(long orderId, String reason) {}

    record Shipment(String carrier) {}

    record Parcel(double weight) {}

    record Unused(String nothing) {}

    static class Orders {

        @PgListener("orders")
        void onOrder(OrderPlaced order, PgNotification notification) {}

        @PgListener("refunds")
        void onRefunds(List<Refund> refunds) {}

        @PgListener("audit")
        void onAudit(String payload) {}

        void notAListener(Unused unused) {}
    }

    /** A composed annotation, as users write them for a channel they listen to in many places. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @PgListener("shipments")
    @interface ShipmentListener {}

    static class Shipments {

        @ShipmentListener
        void onShipment(Optional<Shipment> shipment) {}
    }

    abstract static class ParcelListener {

        @PgListener("parcels")
        void onParcel(Parcel parcel) {}
    }

    static class Parcels extends ParcelListener {}

    interface Notifications {

        void onNotification(PgNotification notification);
    }

    static class ProxiedListener implements Notifications {

        @Override
        @PgListener("proxied")
        public void onNotification(PgNotification notification) {}
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    DataSourceAutoConfiguration.class, JacksonAutoConfiguration.class, PgListenAutoConfiguration.class))
            .withPropertyValues(
                    "spring.datasource.url=jdbc:postgresql://localhost/not-connected", "spring.application.name=native")
            .withBean(Orders.class)
            .withBean(Shipments.class)
            .withBean(Parcels.class)
            .withBean(ProxiedListener.class);

    @Test
    void listenerMethodsCanBeInvokedAndNoOtherMethod() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(reflection.onMethodInvocation(Orders.class, "onOrder")).accepts(hints);
        assertThat(reflection.onMethodInvocation(Orders.class, "onRefunds")).accepts(hints);
        assertThat(reflection.onMethodInvocation(Orders.class, "onAudit")).accepts(hints);
        assertThat(reflection.onMethodInvocation(Orders.class, "notAListener")).rejects(hints);
    }

    @Test
    void payloadTypesAreRegisteredForBindingWithWhatTheyContain() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(binding(OrderPlaced.class)).accepts(hints);
        assertThat(reflection.onMethodInvocation(OrderPlaced.class, "items")).accepts(hints);
        assertThat(binding(Item.class)).accepts(hints); // reached through List<Item> in the record
        assertThat(reflection.onMethodInvocation(Item.class, "sku")).accepts(hints);
        assertThat(binding(Refund.class)).accepts(hints); // List<Refund>: the generic argument
        assertThat(binding(Unused.class)).rejects(hints);
    }

    @Test
    void theNotificationParameterIsHandedOverAsItIsAndNeedsNoBinding() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(reflection.onType(PgNotification.class)).rejects(hints);
    }

    @Test
    void composedAnnotationsAndOptionalPayloadsAreCovered() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(reflection.onMethodInvocation(Shipments.class, "onShipment")).accepts(hints);
        assertThat(binding(Shipment.class)).accepts(hints);
    }

    @Test
    void aListenerMethodInheritedFromASuperclassIsCovered() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(reflection.onMethodInvocation(ParcelListener.class, "onParcel"))
                .accepts(hints);
        assertThat(binding(Parcel.class)).accepts(hints);
    }

    @Test
    void theMethodCalledOnABeanBehindAJdkProxyIsCovered() {
        RuntimeHints hints = processAheadOfTime();
        // what the listener post-processor calls on such a bean: the method chosen for the proxy's class
        Method annotated = ReflectionUtils.findMethod(ProxiedListener.class, "onNotification", PgNotification.class);
        ProxyFactory factory = new ProxyFactory(new ProxiedListener());
        factory.setInterfaces(Notifications.class);
        Class<?> jdkProxy = factory.getProxy(getClass().getClassLoader()).getClass();
        Method called = AopUtils.selectInvocableMethod(annotated, jdkProxy);
        assertThat(called.getDeclaringClass()).isEqualTo(Notifications.class);
        assertThat(reflection.onMethodInvocation(called)).accepts(hints);
        assertThat(reflection.onMethodInvocation(annotated)).accepts(hints);
    }

    @Test
    void theDriverCanCreateTheSocketFactoryByName() throws NoSuchMethodException {
        RuntimeHints hints = processAheadOfTime();
        // pgjdbc's ObjectFactory: Class.forName(socketFactory), then its public constructor taking socketFactoryArg
        assertThat(reflection.onConstructorInvocation(WakeableSocketFactory.class.getConstructor(String.class)))
                .accepts(hints);
    }

    @Test
    void theConfigurationPropertiesCanBeBound() {
        RuntimeHints hints = processAheadOfTime();
        assertThat(reflection.onMethodInvocation(PgListenProperties.class, "setOneProcessListener"))
                .accepts(hints);
        assertThat(reflection.onMethodInvocation(PgListenProperties.TcpKeepalives.class, "setIdle"))
                .accepts(hints);
        assertThat(reflection.onMethodInvocation(PgListenProperties.Reconnect.class, "setMaxDelay"))
                .accepts(hints);
    }

    private static java.util.function.Predicate<RuntimeHints> binding(Class<?> type) {
        return reflection
                .onType(type)
                .withMemberCategories(
                        MemberCategory.INVOKE_DECLARED_CONSTRUCTORS, MemberCategory.ACCESS_DECLARED_FIELDS);
    }

    private RuntimeHints processAheadOfTime() {
        AtomicReference<RuntimeHints> hints = new AtomicReference<>();
        runner.prepare(context -> {
            DefaultGenerationContext generationContext = new DefaultGenerationContext(
                    new ClassNameGenerator(ClassName.get(getClass())), new InMemoryGeneratedFiles());
            new ApplicationContextAotGenerator()
                    .processAheadOfTime(
                            (GenericApplicationContext) context.getSourceApplicationContext(), generationContext);
            hints.set(generationContext.getRuntimeHints());
        });
        return hints.get();
    }
}
