using System.Text.Json;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// The permissions granted to a token, adjudicated as Pauldron does: explicitly denied → denied;
/// granted and not denied → permitted; anything else → denied.
/// </summary>
public sealed class PermissionSet
{
    private readonly GrantedPermission[] _grants;
    private readonly GrantedPermission[] _denies;

    private PermissionSet(IEnumerable<GrantedPermission> permissions)
    {
        var all = permissions.ToArray();
        _grants = all.Where(p => !p.Deny).ToArray();
        _denies = all.Where(p => p.Deny).ToArray();
    }

    public static PermissionSet Empty { get; } = new([]);

    /// <summary>How many permissions about FHIR were read (others are ignored).</summary>
    public int Count => _grants.Length + _denies.Length;

    /// <summary>Reads a JSON array of Pauldron permissions; elements that are not about FHIR are ignored.</summary>
    public static PermissionSet Parse(JsonElement permissions)
    {
        if (permissions.ValueKind != JsonValueKind.Array)
        {
            return Empty;
        }

        return new PermissionSet(permissions.EnumerateArray().Select(GrantedPermission.TryParse).OfType<GrantedPermission>());
    }

    /// <summary>Reads JSON text holding an array of permissions; anything else is an empty set.</summary>
    public static PermissionSet Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Empty;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            return Parse(doc.RootElement);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    public Decision Evaluate(RequiredPermission required)
    {
        if (required.Patients is { Count: > 1 } patients)
        {
            // A resource of several patients needs a permission for each of them, and no deny for any.
            var result = Decision.Permit;
            foreach (var patient in patients)
            {
                var decision = Evaluate(required with { Patients = [patient] });
                if (decision == Decision.ExplicitlyDenied)
                {
                    return decision;
                }

                if (decision != Decision.Permit)
                {
                    result = decision;
                }
            }

            return result;
        }

        foreach (var deny in _denies)
        {
            if (deny.Overlaps(required))
            {
                return Decision.ExplicitlyDenied;
            }
        }

        foreach (var grant in _grants)
        {
            if (grant.Grants(required))
            {
                return Decision.Permit;
            }
        }

        return Decision.NotGranted;
    }
}
