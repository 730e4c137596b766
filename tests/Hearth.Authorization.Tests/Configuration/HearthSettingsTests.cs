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
    public void BadValue_Named(string name, string value)
        => Assert.Contains(Assert.Throws<HearthConfigurationException>(() => TestSettings.Create((name, value))).Errors, m => m.StartsWith(name, StringComparison.Ordinal));
}
