"""Azure's ``azureml.core.authentication``: accepted offline, each saying once that runyard
needs no Azure sign-in (see ``runyard.authentication``)."""

from runyard.authentication import (AbstractAuthentication, AzureCliAuthentication, InteractiveLoginAuthentication,
                                    MsiAuthentication, ServicePrincipalAuthentication)

__all__ = ['AbstractAuthentication', 'AzureCliAuthentication', 'InteractiveLoginAuthentication', 'MsiAuthentication',
           'ServicePrincipalAuthentication']
