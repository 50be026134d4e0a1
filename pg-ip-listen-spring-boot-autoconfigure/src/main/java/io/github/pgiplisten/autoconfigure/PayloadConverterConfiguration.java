package io.github.pgiplisten.autoconfigure;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgPayloadConverter;

/** JSON payloads with the application's Jackson 3 mapper, unless the application brings its own converter. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(JsonMapper.class)
class PayloadConverterConfiguration {

    @Bean
    @ConditionalOnMissingBean
    PgPayloadConverter pgPayloadConverter(ObjectProvider<JsonMapper> mapper) {
        return new JacksonPayloadConverter(
                mapper.getIfAvailable(() -> JsonMapper.builder().build()));
    }
}
