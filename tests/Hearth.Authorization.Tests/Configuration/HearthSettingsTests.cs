using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Tests.Configuration;

public class HearthSettingsTests
{
    [Fact]
    public void Load_Defaults_AsPauldron()
    {
        var s = TestSettings.Create(("UMA_SERVER_PROTECTION_API_KEY", "s3cr3t-value"));
        Assert.True(s.AuthorizationServer.UmaMode);
        Assert.Equal("/protection/introspection", s.AuthorizationServer.UmaServerIntrospectionEndpoint);
        Assert.Equal("M", s.Rules.DefaultConfidentialityCode);
        Assert.Equal([HearthSettings.ConfidentialitySystem], s.Rules.DesignatedSecurityLabelSystems);
        Assert.Equal("http://auth.internal:8090/protection/introspection", s.AuthorizationServer.IntrospectionUrl);
        Assert.DoesNotContain("s3cr3t", s.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NothingSet_NamesEveryMissingSetting()
    {
        var e = Assert.Throws<HearthConfigurationException>(() => HearthSettings.Load(_ => null));
        Assert.Contains(e.Errors, m => m.StartsWith("FHIR_SERVER_BASE", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("UMA_SERVER_BASE", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("UMA_SERVER_PROTECTION_API_KEY", StringComparison.Ordinal));
        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void Load_ManyBadValues_AllReportedAtOnce()
    {
        var e = Assert.Throws<HearthConfigurationException>(() => TestSettings.Create(
            ("FHIR_SERVER_BASE", "ftp://x"),
            ("UMA_MODE", "maybe"),
            ("PORT", "99999"),
            ("UNPROTECTED_RESOURCE_TYPES", "OperationOutcome,Bogus"),
            ("DEFAULT_CONFIDENTIALITY_CODE", "Q"),
            ("HEARTH_TOKEN_CACHE_MAX_SECONDS", "-1"),
            ("UMA_SERVER_INTROSPECTION_ENDPOINT", "protection/introspection"),
            ("HEARTH_TRUSTED_PROXIES", "not-an-ip")));
        string[] names = ["FHIR_SERVER_BASE", "UMA_MODE", "PORT", "UNPROTECTED_RESOURCE_TYPES", "DEFAULT_CONFIDENTIALITY_CODE",
            "HEARTH_TOKEN_CACHE_MAX_SECONDS", "UMA_SERVER_INTROSPECTION_ENDPOINT", "HEARTH_TRUSTED_PROXIES"];
        foreach (var name in names)
        {
            Assert.Contains(e.Errors, m => m.Contains(name, StringComparison.Ordinal));
        }

        Assert.Equal(names.Length, e.Errors.Count);
        Assert.Contains("FHIR_SERVER_BASE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ListsAndTrailingSlash_Normalised()
    {
        var s = TestSettings.Create(("FHIR_SERVER_BASE", "http://fhir:8080/fhir/R4/"), ("UNPROTECTED_RESOURCE_TYPES", " OperationOutcome , CapabilityStatement "),
            ("DESIGNATED_PATIENT_ID_SYSTEMS", "urn:a,urn:b"), ("UMA_MODE", "False"), ("PORT", "8085"));
        Assert.Equal("http://fhir:8080/fhir/R4", s.FhirServer.Base);
        Assert.True(s.Rules.UnprotectedResourceTypes.SetEquals(["OperationOutcome", "CapabilityStatement"]));
        Assert.Equal(["urn:a", "urn:b"], s.Rules.DesignatedPatientIdSystems);
        Assert.False(s.AuthorizationServer.UmaMode);
        Assert.Equal(8085, s.Gateway.Port);
    }
}

public class HearthSettingsSearchTests
{
    [Theory]
    [InlineData(null, null, SearchAllRemoved.Forbidden)] // UMA mode: 403 with a ticket, as Pauldron answers
    [InlineData("false", null, SearchAllRemoved.Empty)] // OAuth mode: as if nothing had matched
    [InlineData("false", "forbidden", SearchAllRemoved.Forbidden)]
    [InlineData("true", "empty", SearchAllRemoved.Empty)]
    public void SearchAllRemoved_DefaultsByMode(string? umaMode, string? value, SearchAllRemoved expected)
    {
        var extra = new List<(string, string)>();
        if (umaMode is not null)
        {
            extra.Add(("UMA_MODE", umaMode));
        }

        if (value is not null)
        {
            extra.Add(("HEARTH_SEARCH_ALL_REMOVED", value));
        }

        Assert.Equal(expected, TestSettings.Create([.. extra]).Gateway.SearchAllRemoved);
    }

    [Theory]
    [InlineData("HEARTH_SEARCH_ALL_REMOVED", "sometimes")]
    [InlineData("HEARTH_MAX_BATCH_ENTRIES", "0")]
    [InlineData("HEARTH_METRICS_PORT", "0")]
    [InlineData("HEARTH_METRICS_PORT", "metrics")]
    [InlineData("HEARTH_METRICS_PORT", "11111")] // the silo port
    [InlineData("HEARTH_AUDIT_BUFFER", "0")]
    [InlineData("HEARTH_AUDIT_BUFFER", "many")]
    [InlineData("HEARTH_AUDIT_FHIR_BASE", "not a url")]
    public void BadValue_Named(string name, string value)
        => Assert.Contains(Assert.Throws<HearthConfigurationException>(() => TestSettings.Create((name, value))).Errors, m => m.StartsWith(name, StringComparison.Ordinal));

    [Fact]
    public void AuditTrail_StandardOutputAndTenThousandByDefault()
    {
        var defaults = TestSettings.Create().Gateway;
        Assert.Equal((null, 10_000), (defaults.AuditLogFile, defaults.AuditBuffer));
        var set = TestSettings.Create(("HEARTH_AUDIT_LOG_FILE", "/var/log/hearth/audit.jsonl"), ("HEARTH_AUDIT_BUFFER", "500")).Gateway;
        Assert.Equal(("/var/log/hearth/audit.jsonl", 500), (set.AuditLogFile, set.AuditBuffer));
        Assert.Null(defaults.AuditFhirBase);
        Assert.Equal("https://audit.example.org/fhir", TestSettings.Create(("HEARTH_AUDIT_FHIR_BASE", "https://audit.example.org/fhir/")).Gateway.AuditFhirBase);
    }

    [Fact]
    public void MetricsPort_OffByDefault_ElseItsOwnPort()
    {
        Assert.Null(TestSettings.Create().Cluster.MetricsPort);
        Assert.Equal(9464, TestSettings.Create(("HEARTH_METRICS_PORT", "9464")).Cluster.MetricsPort);
        Assert.Contains(Assert.Throws<HearthConfigurationException>(() => TestSettings.Create(("HEARTH_METRICS_PORT", "8080"), ("PORT", "8080"))).Errors,
            m => m.StartsWith("HEARTH_METRICS_PORT must differ from PORT", StringComparison.Ordinal));
    }
}

public class HearthSettingsTokenTests
{
    private static HearthSettings Load(params (string Key, string? Value)[] values)
    {
        var map = values.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value);
        map["FHIR_SERVER_BASE"] = TestSettings.FhirBase;
        return HearthSettings.Load(k => map.GetValueOrDefault(k));
    }

    [Fact]
    public void Jwt_WithoutUma_NeedsNoIntrospectionSetting()
    {
        var s = Load(("HEARTH_TOKEN_VALIDATION", "jwt"), ("UMA_MODE", "false"), ("HEARTH_JWT_ISSUER", "https://login.example.org/realms/fhir"), ("HEARTH_JWT_AUDIENCE", "fhir,hearth"));
        Assert.Equal(TokenValidation.Jwt, s.AuthorizationServer.TokenValidation);
        Assert.Equal(["fhir", "hearth"], s.AuthorizationServer.Jwt!.Audiences);
        Assert.Equal(JwtSettings.AsymmetricAlgorithms, s.AuthorizationServer.Jwt.Algorithms);
        Assert.Equal(TimeSpan.FromSeconds(30), s.AuthorizationServer.Jwt.ClockSkew);
        Assert.Equal("https://login.example.org/realms/fhir/.well-known/openid-configuration", s.AuthorizationServer.Jwt.DiscoveryUrl);
    }

    [Theory]
    [InlineData("HEARTH_TOKEN_VALIDATION", "sometimes", "HEARTH_TOKEN_VALIDATION")]
    [InlineData("HEARTH_JWT_ISSUER", null, "HEARTH_JWT_ISSUER")]
    [InlineData("HEARTH_JWT_ISSUER", "not a url", "HEARTH_JWT_ISSUER")]
    [InlineData("HEARTH_JWT_AUDIENCE", null, "HEARTH_JWT_AUDIENCE")]
    [InlineData("HEARTH_JWT_ALGORITHMS", "RS256,HS256", "HEARTH_JWT_ALGORITHMS")]
    [InlineData("HEARTH_JWT_ALGORITHMS", "none", "HEARTH_JWT_ALGORITHMS")]
    [InlineData("HEARTH_JWKS_URL", "ftp://keys", "HEARTH_JWKS_URL")]
    [InlineData("HEARTH_JWKS_REFRESH_SECONDS", "0", "HEARTH_JWKS_REFRESH_SECONDS")]
    [InlineData("HEARTH_JWT_ISSUER", "http://login.example.org", "HEARTH_JWT_ISSUER")] // keys over plain http: only with HEARTH_JWT_ALLOW_HTTP
    [InlineData("HEARTH_JWKS_URL", "http://login.example.org/keys", "HEARTH_JWKS_URL")]
    [InlineData("HEARTH_JWKS_MAX_AGE_SECONDS", "10", "HEARTH_JWKS_MAX_AGE_SECONDS")]
    [InlineData("HEARTH_JWT_ACCEPTED_TYPES", "at+jwt,bad type", "HEARTH_JWT_ACCEPTED_TYPES")]
    [InlineData("HEARTH_JWT_AUDIENCE", "https://fhir.example.org/r4#x", "HEARTH_JWT_AUDIENCE")]
    [InlineData("HEARTH_DPOP_ALGORITHMS", "ES256,HS256", "HEARTH_DPOP_ALGORITHMS")]
    [InlineData("HEARTH_DPOP_ALGORITHMS", "none", "HEARTH_DPOP_ALGORITHMS")]
    [InlineData("HEARTH_DPOP_MAX_AGE_SECONDS", "0", "HEARTH_DPOP_MAX_AGE_SECONDS")]
    [InlineData("HEARTH_DPOP_NONCE", "sometimes", "HEARTH_DPOP_NONCE")]
    [InlineData("HEARTH_TLS_CLIENT_CERTIFICATES", "allow", "HEARTH_TLS_CLIENT_CERTIFICATES")] // without a certificate of its own
    [InlineData("HEARTH_CLIENT_CERT_HEADER", "X-Client-Cert", "HEARTH_CLIENT_CERT_HEADER")] // without the proxies it is believed from
    [InlineData("HEARTH_CLIENT_CERT_PROXIES", "not-an-ip", "HEARTH_CLIENT_CERT_PROXIES")]
    [InlineData("HEARTH_FORWARD_SUBJECT_HEADER", "Authorization", "HEARTH_FORWARD_SUBJECT_HEADER")]
    [InlineData("HEARTH_FORWARD_CLIENT_HEADER", "X Client", "HEARTH_FORWARD_CLIENT_HEADER")]
    [InlineData("HEARTH_INTROSPECTION_CLIENT_ID", "hearth", "HEARTH_INTROSPECTION_CLIENT_ID")] // without its secret
    public void Bad_Named(string name, string? value, string named)
    {
        var values = new Dictionary<string, string?>
        {
            ["HEARTH_TOKEN_VALIDATION"] = "jwt",
            ["UMA_MODE"] = "false",
            ["HEARTH_JWT_ISSUER"] = "https://login.example.org",
            ["HEARTH_JWT_AUDIENCE"] = "fhir",
            [name] = value,
        };
        var e = Assert.Throws<HearthConfigurationException>(() => Load([.. values.Select(v => (v.Key, v.Value))]));
        Assert.Contains(e.Errors, m => m.StartsWith(named, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("jwt", "true", true)] // UMA tickets still need the protection API
    [InlineData("both", "false", true)] // some tokens are introspected
    [InlineData("introspection", "false", true)]
    [InlineData("jwt", "false", false)]
    public void ProtectionKey_RequiredUnlessJwtOnlyOutsideUma(string validation, string uma, bool required)
    {
        var values = new (string, string?)[] { ("HEARTH_TOKEN_VALIDATION", validation), ("UMA_MODE", uma), ("HEARTH_JWT_ISSUER", "https://login.example.org"),
            ("HEARTH_JWT_AUDIENCE", "fhir"), ("UMA_SERVER_BASE", "http://auth:8090") };
        if (required)
        {
            Assert.Contains(Assert.Throws<HearthConfigurationException>(() => Load(values)).Errors, m => m.StartsWith("UMA_SERVER_PROTECTION_API_KEY", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(TokenValidation.Jwt, Load(values).AuthorizationServer.TokenValidation);
        }
    }

    [Fact]
    public void TokenProfile_Defaults_StrictAndHttpsOnly_HttpWhenAllowed()
    {
        var s = Load(("HEARTH_TOKEN_VALIDATION", "jwt"), ("UMA_MODE", "false"), ("HEARTH_JWT_ISSUER", "https://login.example.org"), ("HEARTH_JWT_AUDIENCE", "fhir"));
        var jwt = s.AuthorizationServer.Jwt!;
        Assert.Equal(["at+jwt"], jwt.AcceptedTypes);
        Assert.False(jwt.AllowHttp);
        Assert.Equal(TimeSpan.FromMinutes(15), jwt.KeysMaxAge);
        var constraints = s.AuthorizationServer.SenderConstraints;
        Assert.False(constraints.DpopRequired);
        Assert.False(constraints.DpopNonce);
        Assert.Equal(TimeSpan.FromSeconds(120), constraints.DpopMaxAge);
        Assert.Equal(ClientCertificates.None, constraints.ClientCertificates);

        var http = Load(("HEARTH_TOKEN_VALIDATION", "jwt"), ("UMA_MODE", "false"), ("HEARTH_JWT_ISSUER", "http://127.0.0.1:8095"), ("HEARTH_JWT_AUDIENCE", "fhir"),
            ("HEARTH_JWT_ALLOW_HTTP", "true"), ("HEARTH_JWT_ACCEPTED_TYPES", "application/at+jwt, JWT"));
        Assert.True(http.AuthorizationServer.Jwt!.AllowHttp);
        Assert.Equal(["at+jwt", "jwt"], http.AuthorizationServer.Jwt.AcceptedTypes);
    }

    [Fact]
    public void IntrospectionClient_InsteadOfTheApiKey_OutsideUma_SecretRedacted()
    {
        var s = Load(("UMA_MODE", "false"), ("UMA_SERVER_BASE", "http://auth:8090"), ("HEARTH_INTROSPECTION_CLIENT_ID", "hearth"), ("HEARTH_INTROSPECTION_CLIENT_SECRET", "s3cr3t-value"));
        Assert.Equal("hearth", s.AuthorizationServer.IntrospectionClientId);
        Assert.DoesNotContain("s3cr3t", s.ToString(), StringComparison.Ordinal);
    }
}
